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
    effort_days: float | None = Field(None, ge=0, le=100_000, description="Planned effort in person-days.")


class TaskUpdate(InputModel):
    title: str | None = Field(None, min_length=1, max_length=300)
    milestone_id: int | None = None
    owner_id: int | None = None
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    status: TaskStatus | None = None
    completed_on: dt.date | None = None
    effort_days: float | None = Field(None, ge=0, le=100_000)


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
    effort_days: float | None


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


class DependencyCreate(InputModel):
    predecessor_id: int = Field(ge=1, le=2**63 - 1)
    successor_id: int = Field(ge=1, le=2**63 - 1)
    lag_days: int = Field(0, ge=-3650, le=3650, description="Days between the predecessor's finish and the "
                          "successor's start (negative: overlap).")


class DependencyRead(ReadModel):
    id: int
    project_id: int
    predecessor_id: int
    successor_id: int
    lag_days: int


class AssignmentItem(InputModel):
    user_id: int = Field(ge=1, le=2**63 - 1)
    allocation: int = Field(100, ge=1, le=100, description="% of the member's time on this task.")


class AssignmentsUpdate(InputModel):
    assignments: list[AssignmentItem] = Field(max_length=100)


class AssignmentRead(ReadModel):
    task_id: int
    user_id: int
    allocation: int


class WindowUpdate(InputModel):
    start_date: dt.date
    end_date: dt.date | None = None


class WindowRead(ReadModel):
    project_id: int
    start_date: dt.date
    end_date: dt.date | None
    template_key: str | None


class ScheduledTask(BaseModel):
    id: int
    title: str
    milestone_id: int | None
    status: str
    start: dt.date
    finish: dt.date
    planned_start: dt.date
    planned_finish: dt.date
    float_days: float
    critical: bool


class CriticalPathRead(BaseModel):
    project_id: int
    finish: dt.date | None
    critical_path: list[ScheduledTask]
    tasks: list[ScheduledTask]


class BaselineCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)


class BaselineRead(BaseModel):
    id: int
    project_id: int
    name: str
    created_at: dt.datetime
    tasks: int


class TaskVariance(BaseModel):
    task_id: int
    title: str
    baseline_start: dt.date | None
    baseline_finish: dt.date | None
    start: dt.date
    finish: dt.date
    start_variance_days: int | None
    finish_variance_days: int | None


class BaselineVariance(BaseModel):
    baseline_id: int
    name: str
    created_at: dt.datetime
    tasks: list[TaskVariance]
    removed_tasks: list[str]


class WeekLoad(BaseModel):
    user_id: int
    username: str
    week: str = Field(description="ISO week, e.g. 2026-W05.")
    load_percent: float = Field(description="Average allocation over the week's working days.")
    peak_percent: float = Field(description="Highest allocation on one working day of the week.")
    over_allocated: bool
    tasks: list[int]


class ForecastPoint(BaseModel):
    kind: str
    id: int | None
    name: str
    due_date: dt.date | None
    p50: dt.date | None
    p85: dt.date | None
    late_probability: float | None


class ForecastRead(BaseModel):
    project_id: int
    draws: int
    source: str = Field(description="'history' (ratios of finished tasks) or 'prior' (fewer than 3 finished).")
    finished_tasks: int
    remaining_tasks: int
    as_of: dt.date
    project: ForecastPoint
    milestones: list[ForecastPoint]
    histogram: list[tuple[dt.date, int]] = Field(description="Project finish dates and how many draws end there.")


class PlanFromTemplate(InputModel):
    template_key: str = Field(min_length=1, max_length=80)
    start_date: dt.date
    locale: str = Field("en", pattern="^(en|ko)$", description="Language of the milestone and task names.")
