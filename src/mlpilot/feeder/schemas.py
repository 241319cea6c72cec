"""API shapes of the feeder domain: pipelines, their runs and changes to them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel


class PipelineCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    connection_id: int = Field(description="Connection of this project to read from (incrementally, by watermark).")
    recipe_version_id: int | None = Field(None, description="Cleaning recipe version applied to the new rows.")
    dataset_name: str = Field(min_length=1, max_length=200, description="Dataset that receives a new version.")
    mode: Literal["append", "replace"] = Field(
        "append", description="append: a new version = the latest version plus the new rows; replace: only them.")
    schedule: str | None = Field(None, max_length=120,
                                 description="Cron expression (minute hour day month weekday); empty = manual only.")
    timezone: str = Field("UTC", max_length=64, description="IANA time zone the schedule is read in.")
    triggers: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Rules such as {"kind": "min_new_rows", "rows": 1000, "train": {"target": "churn", '
                    '"task": "auto", "time_budget_s": 60}}.')
    enabled: bool = True


class PipelineUpdate(InputModel):
    enabled: bool | None = None
    schedule: str | None = Field(None, max_length=120, description="New cron expression; '' makes it manual only.")
    timezone: str | None = Field(None, max_length=64)
    triggers: list[dict[str, Any]] | None = None
    recipe_version_id: int | None = None


class PipelineRunRead(ReadModel):
    id: int
    pipeline_id: int
    job_id: int | None
    reason: str
    scheduled_for: dt.datetime | None
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    rows_read: int
    rows_written: int
    dataset_version_id: int | None
    training_run_id: int | None
    attempts: int
    watermark: str | None
    message: str
    error: str | None
    created_at: dt.datetime


class PipelineRunDetail(PipelineRunRead):
    log: str = ""


class PipelineRead(ReadModel):
    id: int
    project_id: int
    name: str
    connection_id: int
    recipe_version_id: int | None
    dataset_name: str
    mode: str
    schedule: str | None
    timezone: str
    triggers: list[dict[str, Any]]
    enabled: bool
    next_run_at: dt.datetime | None
    last_scheduled_at: dt.datetime | None
    watermark: str | None
    rows_since_training: int
    created_at: dt.datetime
    last_run: PipelineRunRead | None = None


class PipelineDetail(PipelineRead):
    runs: list[PipelineRunRead]


class RunStarted(BaseModel):
    run: PipelineRunRead
    job_id: int
