"""API shapes of the pmo domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel
from mlpilot.pmo.models import TaskStatus
from mlpilot.projects.models import Stage


class MilestoneCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    stage: Stage | None = None
    start_date: dt.date
    due_date: dt.date
    position: int | None = None


class MilestoneUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    stage: Stage | None = None
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    completed_on: dt.date | None = Field(None, description="Set to mark the milestone reached; null reopens it.")
    position: int | None = None


class MilestoneRead(ReadModel):
    id: int
    project_id: int
    name: str
    description: str
    stage: str | None
    start_date: dt.date
    due_date: dt.date
    completed_on: dt.date | None
    position: int


class TaskCreate(InputModel):
    title: str = Field(min_length=1, max_length=300)
    milestone_id: int | None = None
    owner_id: int | None = Field(None, description="A project member's user id.")
    start_date: dt.date
    due_date: dt.date
    status: TaskStatus = TaskStatus.todo


class TaskUpdate(InputModel):
    title: str | None = Field(None, min_length=1, max_length=300)
    milestone_id: int | None = None
    owner_id: int | None = None
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    status: TaskStatus | None = None
    completed_on: dt.date | None = None


class TaskRead(ReadModel):
    id: int
    project_id: int
    milestone_id: int | None
    title: str
    owner_id: int | None
    start_date: dt.date
    due_date: dt.date
    status: TaskStatus
    completed_on: dt.date | None


class ScheduleItemRead(BaseModel):
    kind: str
    id: int
    name: str
    start_date: dt.date
    due_date: dt.date
    completed_on: dt.date | None
    state: str
    days_late: int


class ScheduleSummary(BaseModel):
    today: dt.date
    milestones: int
    tasks: int
    total: int
    done: int
    late: int
    done_late: int
    percent_done: float
    worst_slip_days: int
    worst_item: str | None
    next_milestone: dict[str, Any] | None
    items: list[ScheduleItemRead]
