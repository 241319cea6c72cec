"""API shapes of the datasets domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from mlpilot.core.schemas import ReadModel


class ColumnSchema(BaseModel):
    name: str
    dtype: str


class DatasetVersionRead(ReadModel):
    id: int
    dataset_id: int
    version: int
    source_filename: str
    source_format: str
    storage_key: str
    row_count: int
    column_count: int
    columns: list[ColumnSchema] = Field(validation_alias="schema", serialization_alias="schema",
                                        description="Column names and Polars dtypes.")
    delta_version: int = Field(description="The Delta Lake table version holding this dataset version.")
    lineage: dict[str, Any]
    sha256: str | None = Field(description="SHA-256 of the uploaded file (None for connections and recipes).")
    size_bytes: int | None = Field(description="Size of the uploaded file (None for connections and recipes).")
    stored_bytes: int
    created_by_id: int | None
    created_at: dt.datetime


class DatasetRead(ReadModel):
    id: int
    project_id: int
    name: str
    description: str
    created_at: dt.datetime
    latest_version: int | None = None


class DatasetDetail(DatasetRead):
    versions: list[DatasetVersionRead]


class UploadResult(BaseModel):
    dataset: DatasetRead
    version: DatasetVersionRead
    profile_job_id: int


class ProfileRead(ReadModel):
    version_id: int
    job_id: int | None
    created_at: dt.datetime
    profile: dict[str, Any]


class PreviewRead(BaseModel):
    version_id: int
    columns: list[str]
    rows: list[dict[str, Any]]


class LineageParent(BaseModel):
    id: int
    dataset_id: int
    dataset_name: str
    version: int


class LineageRead(BaseModel):
    """Where a version came from: source, connector (settings without secrets), recipe, parents, rows, who, when."""

    version_id: int
    dataset_id: int
    dataset_name: str
    version: int
    delta_version: int
    source: str
    connector: str | None
    connector_settings: dict[str, Any]
    recipe: dict[str, Any] | None
    parents: list[LineageParent]
    children: list[LineageParent] = Field(description="Versions derived from this one (recipe runs).")
    rows_in: int | None
    rows_out: int | None
    quarantined_rows: int
    watermark: str | None
    encoding: str | None = Field(None, description="Text encoding the upload was read with (utf-8, utf-8-sig, cp949).")
    delimiter: str | None = Field(None, description="Field delimiter detected in a CSV/TSV upload.")
    row_count: int
    column_count: int
    created_by_id: int | None
    created_by: str | None
    created_at: dt.datetime


class ColumnChange(BaseModel):
    name: str
    dtype_a: str | None = None
    dtype_b: str | None = None


class ColumnShift(BaseModel):
    name: str
    dtype_a: str
    dtype_b: str
    missing_pct_a: float
    missing_pct_b: float
    missing_pct_change: float
    distinct_a: int
    distinct_b: int
    mean_a: float | None = None
    mean_b: float | None = None
    mean_change: float | None = None
    std_a: float | None = None
    std_b: float | None = None
    mean_shift_std: float | None = Field(None, description="Change of the mean in units of the first version's std.")
    top_values_a: list[dict[str, Any]] | None = None
    top_values_b: list[dict[str, Any]] | None = None
    new_top_values: list[Any] = []
    gone_top_values: list[Any] = []
    notable: bool = Field(description="True when the shift is large enough to look at.")


class DiffRead(BaseModel):
    """How version b differs from version a."""

    a: int
    b: int
    rows_a: int
    rows_b: int
    rows_change: int
    rows_change_pct: float | None
    columns_a: int
    columns_b: int
    added: list[ColumnChange]
    removed: list[ColumnChange]
    type_changed: list[ColumnChange]
    columns: list[ColumnShift]
