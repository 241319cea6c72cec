"""API shapes of the risks domain."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel
from mlpilot.risks.models import Decision, IssueKind, IssueStatus, RiskStatus

Level = Field(ge=1, le=5, description="1 (lowest) to 5 (highest).")


class RiskCreate(InputModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    probability: int = Level
    impact: int = Level
    owner_id: int | None = Field(None, description="A project member's user id.")
    mitigation: str = ""
    status: RiskStatus = RiskStatus.open
    due_date: dt.date | None = None


class RiskUpdate(InputModel):
    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = None
    probability: int | None = Field(None, ge=1, le=5)
    impact: int | None = Field(None, ge=1, le=5)
    owner_id: int | None = None
    mitigation: str | None = None
    status: RiskStatus | None = None
    due_date: dt.date | None = None


class RiskRead(ReadModel):
    id: int
    project_id: int
    title: str
    title_ko: str
    description: str
    probability: int
    impact: int
    score: int
    owner_id: int | None
    owner: str | None = Field(None, description="The owner's username.")
    mitigation: str
    mitigation_ko: str
    status: RiskStatus
    due_date: dt.date | None
    source: str
    evidence_url: str
    evidence_key: str | None
    closed_reason: str
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RiskChangeRead(ReadModel):
    id: int
    risk_id: int
    user_id: int | None
    source: str
    field: str
    old_value: str
    new_value: str
    at: dt.datetime


class IssueCreate(InputModel):
    kind: IssueKind = IssueKind.issue
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    owner_id: int | None = None
    risk_id: int | None = Field(None, description="The risk of this project the issue came from, if any.")


class IssueUpdate(InputModel):
    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = None
    status: IssueStatus | None = None
    owner_id: int | None = None


class IssueDecision(InputModel):
    decision: Decision
    note: str = Field("", max_length=5000)


class IssueRead(ReadModel):
    id: int
    project_id: int
    kind: IssueKind
    title: str
    description: str
    status: IssueStatus
    owner_id: int | None
    risk_id: int | None
    decision: Decision
    decision_note: str
    decided_by_id: int | None
    decided_at: dt.datetime | None
    created_at: dt.datetime


class RiskPlanUpdate(InputModel):
    dataset_name: str | None = Field(None, max_length=200)
    target_column: str | None = Field(None, max_length=300)
    min_rows: int | None = Field(None, ge=1, le=10**12)
    min_rows_per_class: int | None = Field(None, ge=1, le=10**12)
    target_metric: str | None = Field(None, max_length=40)
    target_value: float | None = Field(None, allow_inf_nan=False)
    stale_runs: int | None = Field(None, ge=2, le=100)
    delivery_grace_hours: int | None = Field(None, ge=0, le=24 * 60)
    alert_lookback_hours: int | None = Field(None, ge=1, le=24 * 90)
    max_error_rate: float | None = Field(None, ge=0, le=1)
    max_latency_p95_ms: float | None = Field(None, gt=0, le=3_600_000)


class RiskPlanRead(ReadModel):
    project_id: int
    dataset_name: str | None
    target_column: str | None
    min_rows: int | None
    min_rows_per_class: int | None
    target_metric: str | None
    target_value: float | None
    stale_runs: int
    delivery_grace_hours: int
    alert_lookback_hours: int
    max_error_rate: float | None
    max_latency_p95_ms: float | None
    last_scan_at: dt.datetime | None


class ScanJob(BaseModel):
    job_id: int
    state: str


class DetectorRead(BaseModel):
    name: str
    description: str
