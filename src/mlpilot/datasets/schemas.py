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
    sha256: str
    size_bytes: int
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
