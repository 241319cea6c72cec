"""API shapes of the training domain."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlpilot.core.schemas import InputModel, ReadModel


class RunCreate(InputModel):
    dataset_version_id: int
    target: str = Field(min_length=1, max_length=300)
    task: Literal["auto", "binary", "multiclass", "regression", "forecast"] = "auto"
    time_column: str | None = Field(None, max_length=300, description="forecast: the time column.")
    id_column: str | None = Field(None, max_length=300, description="forecast: the series id column (optional).")
    horizon: int | None = Field(None, ge=1, le=10_000, description="forecast: steps to forecast.")
    time_budget_s: float = Field(60.0, description="Training time budget in seconds (more than 0, at most 3600).")
    engine: str | None = Field(None, description="Engine name from GET /api/v1/engines (default: the built-in "
                                                 "AutoML engine 'auto').")
    params: dict[str, Any] = Field(default_factory=dict, description="Engine hyper-parameters (optional).")
    metric: str | None = Field(None, description="Metric to optimise and rank by (default: the task's).")
    sensitive_column: str | None = Field(None, description="Column to measure fairness over (optional).")
    positive_class: str | None = Field(None, max_length=300, description="Classification fairness: the class "
                                       "treated as the favourable outcome, e.g. 'approved' (default: the last class).")
    experiment: str | None = Field(None, max_length=200, description="Experiment name (created when new).")
    tags: list[str] = Field(default_factory=list)
    notes: str = ""
    external_engine_id: int | None = Field(None, description="For engine 'http': the external engine to score.")


class RunRead(ReadModel):
    id: int
    project_id: int
    dataset_version_id: int
    experiment_id: int | None
    target: str
    task: str
    engine: str
    metric: str | None
    sensitive_column: str | None
    positive_class: str | None = None
    params: dict[str, Any]
    metrics: dict[str, Any]
    validation_metrics: dict[str, Any]
    fold_metrics: list[Any]
    library_versions: dict[str, Any]
    tags: list[str]
    notes: str
    primary_metric: str | None
    primary_metric_value: float | None
    status: str
    error: str | None
    job_id: int | None
    duration_s: float | None
    time_budget_s: float
    artifact_key: str | None
    flavor: str | None
    created_by_id: int | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


class RunStarted(BaseModel):
    run: RunRead
    job_id: int


class LeaderboardEntry(BaseModel):
    """A finished run as the leaderboard ranks it (within its task, by its primary metric on the test split)."""

    model_config = ConfigDict(frozen=True)
    rank: int
    run_id: int
    engine: str
    task: str
    target: str
    dataset: str
    metric_name: str
    metric_value: float | None
    higher_is_better: bool
    metrics: dict[str, Any]
    duration_s: float | None
    experiment: str | None = None
    tags: list[str] = Field(default_factory=list)


class RunDetail(RunRead):
    evaluation: dict[str, Any]
    logs: str


class RunUpdate(InputModel):
    tags: list[str] | None = None
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    notes: str | None = None


class EngineInfo(BaseModel):
    name: str
    description: str | None
    flavor: str | None
    capabilities: list[str]
    installed: bool
    status: Literal["installed", "not installed", "broken"]
    reason: str | None
    libraries: dict[str, str | None]
    default: bool


class ExperimentRead(BaseModel):
    id: int
    name: str
    description: str
    runs: int
    best_run_id: int | None
    created_at: dt.datetime


class ExternalEngineCreate(InputModel):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(description="http(s) URL the rows are POSTed to.")
    request: Any = Field(default_factory=lambda: {"records": "$records"},
                         description="JSON template; $records, $instances, $columns or $inputs mark where rows go.")
    response_path: str = Field("predictions", description="Dotted path to the list of row answers.")
    response_field: str | None = Field(None, description="Field of each row answer holding the prediction.")
    timeout_s: float = 5.0
    headers: dict[str, str] = Field(default_factory=dict, description="Plain headers (stored as given).")
    secret_headers: dict[str, str] = Field(default_factory=dict,
                                           description="Headers kept encrypted (e.g. Authorization).")


class ExternalEngineRead(BaseModel):
    id: int
    project_id: int
    name: str
    config: dict[str, Any]
    secret_headers: dict[str, str]
    created_at: dt.datetime


class CompareResult(BaseModel):
    project_id: int
    runs: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    charts: dict[str, Any]
