"""Typed inputs and results of the comms domain (the weekly digest's figures included)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from mlpilot.comms.models import DeliverableKind, DeliverableStatus
from mlpilot.core.db import INT64_MAX
from mlpilot.core.schemas import InputModel, ReadModel

Id = Field(ge=1, le=INT64_MAX)


class ActionItemCreate(InputModel):
    title: str = Field(min_length=1, max_length=300)
    owner_id: int | None = Field(None, ge=1, le=INT64_MAX, description="A project member's user id.")
    due_date: dt.date


class MeetingCreate(InputModel):
    title: str = Field(min_length=1, max_length=200)
    held_on: dt.date
    attendees: str = Field("", max_length=2000)
    minutes: str = Field("", max_length=20_000)
    decisions: str = Field("", max_length=20_000)
    action_items: list[ActionItemCreate] = Field(default_factory=list, max_length=50,
                                                 description="Each becomes a task of the project plan.")


class ActionItemRead(ReadModel):
    id: int
    meeting_id: int
    title: str
    owner_id: int | None
    due_date: dt.date
    task_id: int | None


class MeetingRead(ReadModel):
    id: int
    project_id: int
    title: str
    held_on: dt.date
    attendees: str
    minutes: str
    decisions: str
    created_at: dt.datetime
    action_items: list[ActionItemRead] = Field(default_factory=list)


class RequestCreate(InputModel):
    title: str = Field(min_length=1, max_length=300)
    details: str = Field("", max_length=20_000)
    requested_by: str = Field("", max_length=200)
    received_on: dt.date
    respond_by: dt.date


class RequestAnswer(InputModel):
    response: str = Field(min_length=1, max_length=20_000)
    answered_on: dt.date | None = None


class RequestRead(ReadModel):
    id: int
    project_id: int
    title: str
    details: str
    requested_by: str
    received_on: dt.date
    respond_by: dt.date
    response: str
    answered_by_id: int | None
    answered_on: dt.date | None
    overdue: bool = False


class EmailCreate(InputModel):
    recipients: str = Field(min_length=3, max_length=1000, description="Comma-separated e-mail addresses.")
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)


class EmailRead(ReadModel):
    id: int
    project_id: int
    kind: str
    recipients: str
    subject: str
    body: str
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class DigestScheduleUpdate(InputModel):
    recipients: str = Field("", max_length=1000, description="Comma-separated e-mail addresses.")
    weekday: int = Field(0, ge=0, le=6, description="0 = Monday … 6 = Sunday.")
    locale: str = Field("en", pattern="^(en|ko)$")
    enabled: bool = True


class DigestScheduleRead(ReadModel):
    project_id: int
    recipients: str
    weekday: int
    locale: str
    enabled: bool
    last_sent_week: str | None


class DigestMilestone(BaseModel):
    name: str
    due_date: dt.date
    completed_on: dt.date | None
    p85: dt.date | None


class DigestRisk(BaseModel):
    title: str
    score: int
    status: str
    source: str


class DigestModel(BaseModel):
    run_id: int
    engine: str
    metric_name: str
    metric_value: float | None


class DigestService(BaseModel):
    name: str
    state: str
    requests: int
    errors: int
    error_rate: float | None
    latency_p95_ms: float | None


class Digest(BaseModel):
    """The weekly client digest: schedule, risks, model and service figures, requests and deliverables."""

    project_id: int
    project_name: str
    client: str
    week: str
    generated_on: dt.date
    percent_done: float
    late_items: int
    worst_slip_days: int
    forecast_p50: dt.date | None
    forecast_p85: dt.date | None
    milestones: list[DigestMilestone]
    open_risks: int
    top_risks: list[DigestRisk]
    best_model: DigestModel | None
    services: list[DigestService]
    open_requests: int
    overdue_requests: int
    deliverables_awaiting: int
    deliverables_rejected: int


class DeliverableCreate(InputModel):
    milestone_id: int = Id
    kind: DeliverableKind
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20_000)
    version: str = Field("", max_length=80, description="Version label of a document (datasets, models and "
                         "services take the linked object's version).")
    dataset_version_id: int | None = Field(None, ge=1, le=INT64_MAX)
    model_version_id: int | None = Field(None, ge=1, le=INT64_MAX)
    service_name: str | None = Field(None, min_length=1, max_length=63)
    link: str = Field("", max_length=1000, description="Where a document is kept (URL or path).")


class DeliverableDecide(InputModel):
    decision: DeliverableStatus = Field(description="approved or rejected.")
    comment: str = Field("", max_length=5000)


class DecisionRead(ReadModel):
    id: int
    deliverable_id: int
    user_id: int | None
    username: str
    decision: str
    comment: str
    version: str
    at: dt.datetime


class DeliverableRead(ReadModel):
    id: int
    project_id: int
    milestone_id: int
    kind: str
    name: str
    description: str
    version: str
    dataset_version_id: int | None
    model_version_id: int | None
    service_name: str | None
    link: str
    status: str
    created_at: dt.datetime
    evidence_url: str | None = None
    decisions: list[DecisionRead] = Field(default_factory=list)
