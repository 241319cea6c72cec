"""API shapes of the recipes domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel
from mlpilot.recipes.steps import StepList


class RecipeCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    steps: StepList = Field(default_factory=list, description="The steps of version 1.")
    note: str = Field("", max_length=500)


class RecipeVersionCreate(InputModel):
    steps: StepList
    note: str = Field("", max_length=500)


class RecipeVersionRead(ReadModel):
    id: int
    recipe_id: int
    version: int
    steps: StepList = Field(description="The steps as they were written (keys left out keep their defaults).")
    note: str
    created_by_id: int | None
    created_at: dt.datetime


class RecipeRead(ReadModel):
    id: int
    project_id: int
    name: str
    description: str
    created_at: dt.datetime
    latest_version: int | None = None


class RecipeDetail(RecipeRead):
    versions: list[RecipeVersionRead]


class PreviewRequest(InputModel):
    dataset_version_id: int
    version: int | None = Field(None, description="Recipe version number (default: the latest).")
    steps: StepList | None = Field(None, description="Unsaved steps to try instead of a version.")
    sample_rows: int = Field(200, ge=1, le=5000)


class StepReportRead(BaseModel):
    step: int
    op: str
    label: str
    rows_in: int
    rows_out: int
    flagged: int
    errors: list[str]
    details: dict[str, Any]
    cells_changed: int = Field(0, description="Cells of the sample whose value the step changed.")
    cells_filled: int = Field(0, description="Of those, cells that were missing and got a value.")
    skipped: bool = Field(False, description="The step is disabled and was skipped.")


class SampleRead(BaseModel):
    columns: list[str]
    dtypes: list[str]
    rows: list[dict[str, Any]]


class ChangedRow(BaseModel):
    row: int = Field(description="The row's 1-based number in the sample before the recipe.")
    values: dict[str, Any] = Field(description="The row after the recipe.")
    before: dict[str, Any] = Field(description="The old value of each changed cell (new columns: null).")


class ChangesRead(BaseModel):
    columns: list[str]
    rows_changed: int
    rows_removed: int
    cells_changed: int
    removed: list[int] = Field(description="Numbers of the first removed rows.")
    rows: list[ChangedRow] = Field(description="The first changed rows, with their changed cells.")


class PreviewRead(BaseModel):
    dataset_version_id: int
    sample_rows: int
    before: SampleRead
    after: SampleRead | None
    steps: list[StepReportRead]
    changes: ChangesRead | None = Field(None, description="The rows the recipe changes or removes on the sample.")
    error: str | None = Field(None, description="Why a step failed on the sample (the steps before it are reported).")


class ApplyRequest(InputModel):
    dataset_version_id: int
    version: int | None = Field(None, description="Recipe version number (default: the latest).")
    output_name: str | None = Field(None, max_length=200, description="Dataset to write (default: <source>-<recipe>).")


class ApplyResult(BaseModel):
    job_id: int
    recipe_version_id: int
    dataset_version_id: int
    output_name: str
