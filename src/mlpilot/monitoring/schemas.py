"""API shapes of the monitoring domain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlpilot.core.schemas import InputModel
from mlpilot.monitoring.metrics import Bucket, Totals

Window = Literal["1h", "24h", "7d"]


class MetricsRead(BaseModel):
    service: str
    window: Window
    since: dt.datetime
    until: dt.datetime
    bucket_seconds: int
    totals: Totals
    series: list[Bucket]


class AlertRuleCreate(InputModel):
    name: str
    service: str
    metric: str
    threshold: float
    op: str = ">"
    window_minutes: int = 5
    cooldown_minutes: int = 30


class AlertRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    service: str
    metric: str
    op: str
    threshold: float
    window_minutes: int
    cooldown_minutes: int
    enabled: bool
    last_fired_at: dt.datetime | None
    last_value: float | None


class AlertEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    rule_id: int
    service: str
    metric: str
    value: float
    threshold: float
    fired_at: dt.datetime


class UnitCostSet(InputModel):
    unit_cost: float
    currency: str = "USD"


class CostRow(BaseModel):
    service: str
    requests: int
    rows: int
    compute_seconds: float
    unit_cost: float
    currency: str
    cost: float
    share: float


class FeedbackItem(InputModel):
    """The true outcome of one answered request (its `request_id` / OIP `id`)."""

    request_id: Annotated[str, Field(min_length=1, max_length=200)]
    actual: str | float | int | bool


class FeedbackCreate(InputModel):
    feedback: Annotated[list[FeedbackItem], Field(min_length=1, max_length=100_000)]


class FeedbackResult(BaseModel):
    service: str
    matched: int
    unknown: list[str]


class QualityBucketRead(BaseModel):
    window_start: dt.datetime
    count: int
    accuracy: float | None = None
    rmse: float | None = None
    mae: float | None = None


class QualityTotalsRead(BaseModel):
    count: int
    accuracy: float | None = None
    rmse: float | None = None
    mae: float | None = None


class QualityRead(BaseModel):
    service: str
    window: Window
    task: str | None
    bucket_seconds: int
    totals: QualityTotalsRead
    series: list[QualityBucketRead]


class DriftWindowRead(BaseModel):
    window_start: dt.datetime
    seen: int
    sampled: int
    drift: bool | None
    share_drifted: float | None
    drifted_columns: list[str]
    prediction_drift: bool | None
    # column → {method, score, psi, ks_statistic, chi2_p_value, drift}
    columns: dict[str, dict[str, Any]]


class LiveDriftRead(BaseModel):
    service: str
    reference: Literal["training", "first_window"]
    window_seconds: int
    min_rows: int
    windows: list[DriftWindowRead]
    latest: DriftWindowRead | None
