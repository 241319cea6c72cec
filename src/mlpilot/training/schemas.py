"""API shapes of the training domain."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from mlpilot.core.schemas import ReadModel


class RunCreate(BaseModel):
    dataset_version_id: int
    target: str = Field(min_length=1, max_length=300)
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto"
    time_budget_s: float = Field(60.0, description="Training time budget in seconds (more than 0, at most 3600).")
    engine: str = "lightgbm"
    params: dict[str, Any] = Field(default_factory=dict, description="Engine hyper-parameters (optional).")


class RunRead(ReadModel):
    id: int
    project_id: int
    dataset_version_id: int
    target: str
    task: str
    engine: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    primary_metric: str | None
    primary_metric_value: float | None
    status: str
    error: str | None
    job_id: int | None
    duration_s: float | None
    time_budget_s: float
    artifact_key: str | None
    created_by_id: int | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


class RunStarted(BaseModel):
    run: RunRead
    job_id: int


class LeaderboardEntry(BaseModel):
    rank: int
    run_id: int
    engine: str
    task: str
    target: str
    dataset: str
    metric_name: str
    metric_value: float
    higher_is_better: bool
    metrics: dict[str, Any]
    duration_s: float | None
