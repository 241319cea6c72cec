"""Use cases of the pmo domain: milestones and tasks of a project, and its schedule summary with slippage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import unit_of_work
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.pmo import window
from mlpilot.pmo.models import BaselineTask, Milestone, Task, TaskAssignment, TaskDependency, TaskStatus
from mlpilot.pmo.schemas import ScheduleSummary
from mlpilot.pmo.slippage import ScheduleItem, summarize_schedule
from mlpilot.projects import service as projects_service
from mlpilot.projects.models import STAGES

_UNSET: Any = object()
# Checks a higher domain registers to refuse closing a milestone (e.g. comms: a rejected deliverable); each raises.
_CLOSE_CHECKS: list[Callable[[Session, Milestone], None]] = []


def on_milestone_close(check: Callable[[Session, Milestone], None]) -> Callable[[Session, Milestone], None]:
    """Register `check(session, milestone)`, run before a milestone is marked reached; it raises to refuse."""
    if check not in _CLOSE_CHECKS:
        _CLOSE_CHECKS.append(check)
    return check


def _check_dates(start_date: dt.date, due_date: dt.date, what: str) -> None:
    if due_date < start_date:
        raise InvalidInput(f"{what}: due_date {due_date.isoformat()} is before start_date {start_date.isoformat()}; "
                           "the due date must be on or after the start date.")


def _check_stage(stage: str | None) -> str | None:
    if stage in (None, ""):
        return None
    if stage not in STAGES:
        raise InvalidInput(f"Milestone stage {stage!r} is unknown; expected one of: {', '.join(STAGES)}.")
    return str(stage)


def _check_owner(session: Session, *, project_id: int, owner_id: int | None) -> None:
    if owner_id is not None and not projects_service.is_member(session, project_id=project_id, user_id=owner_id):
        raise InvalidInput(f"owner_id {owner_id} is not a member of project {project_id}; "
                           "add the user to the project first or choose a member.")


def get_milestone(session: Session, *, project_id: int, milestone_id: int) -> Milestone:
    """Return milestone `milestone_id` of the project."""
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project_id:
        raise NotFound(f"Milestone {milestone_id} does not exist in project {project_id}.")
    return milestone


def list_milestones(session: Session, *, project_id: int) -> list[Milestone]:
    """Return the project's milestones in plan order."""
    stmt = (select(Milestone).where(Milestone.project_id == project_id)
            .order_by(Milestone.position, Milestone.due_date, Milestone.id))
    return list(session.scalars(stmt))


def create_milestone(session: Session, *, project_id: int, user: User, name: str, start_date: dt.date,
                     due_date: dt.date, description: str = "", stage: str | None = None,
                     position: int | None = None) -> Milestone:
    """Add a milestone to the project plan."""
    if not name or not name.strip():
        raise InvalidInput("Milestone name is empty; give the milestone a name.")
    _check_dates(start_date, due_date, f"Milestone {name!r}")
    stage = _check_stage(stage)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        if position is None:
            last = session.scalar(select(func.max(Milestone.position)).where(Milestone.project_id == project_id))
            position = (last or 0) + 1
        milestone = Milestone(project_id=project_id, name=name.strip(), description=description, stage=stage,
                              start_date=start_date, due_date=due_date, position=position)
        session.add(milestone)
        session.flush()
    return milestone


def update_milestone(session: Session, *, project_id: int, milestone_id: int, user: User,
                     name: str | None = None, description: str | None = None, stage: Any = _UNSET,
                     start_date: dt.date | None = None, due_date: dt.date | None = None,
                     completed_on: Any = _UNSET, position: int | None = None) -> Milestone:
    """Change a milestone's fields (completed_on=None reopens it)."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        milestone = get_milestone(session, project_id=project_id, milestone_id=milestone_id)
        if name is not None:
            if not name.strip():
                raise InvalidInput("Milestone name is empty; give the milestone a name.")
            milestone.name = name.strip()
        if description is not None:
            milestone.description = description
        if stage is not _UNSET:
            milestone.stage = _check_stage(stage)
        if position is not None:
            milestone.position = position
        start, due = start_date or milestone.start_date, due_date or milestone.due_date
        _check_dates(start, due, f"Milestone {milestone.name!r}")
        milestone.start_date, milestone.due_date = start, due
        if completed_on is not _UNSET:
            if completed_on is not None and milestone.completed_on is None:
                for check in _CLOSE_CHECKS:
                    check(session, milestone)
            milestone.completed_on = completed_on
    return milestone


def complete_milestone(session: Session, *, project_id: int, milestone_id: int, user: User,
                       completed_on: dt.date | None = None) -> Milestone:
    """Mark a milestone reached (today unless a date is given)."""
    return update_milestone(session, project_id=project_id, milestone_id=milestone_id, user=user,
                            completed_on=completed_on or dt.date.today())


def get_task(session: Session, *, project_id: int, task_id: int) -> Task:
    """Return task `task_id` of the project."""
    task = session.get(Task, task_id)
    if task is None or task.project_id != project_id:
        raise NotFound(f"Task {task_id} does not exist in project {project_id}.")
    return task


def list_tasks(session: Session, *, project_id: int) -> list[Task]:
    """Return the project's tasks by due date."""
    stmt = select(Task).where(Task.project_id == project_id).order_by(Task.due_date, Task.id)
    return list(session.scalars(stmt))


def _check_effort(effort_days: float | None) -> float | None:
    if effort_days is not None and not 0 <= effort_days <= 100_000:
        raise InvalidInput(f"effort_days {effort_days} is out of range; expected 0..100000 person-days.")
    return effort_days


def delete_task(session: Session, *, project_id: int, task_id: int, user: User) -> None:
    """Remove a task with its dependencies and assignments (baselines keep its saved dates and title)."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        task = get_task(session, project_id=project_id, task_id=task_id)
        # Explicit: SQLite without foreign-key enforcement would leave the links behind.
        session.execute(delete(TaskDependency).where(
            TaskDependency.project_id == project_id,
            (TaskDependency.predecessor_id == task.id) | (TaskDependency.successor_id == task.id)))
        session.execute(delete(TaskAssignment).where(TaskAssignment.task_id == task.id))
        session.execute(update(BaselineTask).where(BaselineTask.task_id == task.id).values(task_id=None))
        session.delete(task)


def delete_milestone(session: Session, *, project_id: int, milestone_id: int, user: User) -> None:
    """Remove a milestone; its tasks stay in the plan without a milestone."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        milestone = get_milestone(session, project_id=project_id, milestone_id=milestone_id)
        session.execute(update(Task).where(Task.project_id == project_id, Task.milestone_id == milestone.id)
                        .values(milestone_id=None))
        session.delete(milestone)


def _check_status(status: str) -> TaskStatus:
    try:
        return TaskStatus(status)
    except ValueError:
        raise InvalidInput(f"Task status {status!r} is unknown; expected one of: "
                           f"{', '.join(s.value for s in TaskStatus)}.") from None


def _apply_status(task: Task, status: TaskStatus, completed_on: dt.date | None) -> None:
    task.status = status
    if status == TaskStatus.done:
        task.completed_on = completed_on or task.completed_on or dt.date.today()
    else:
        task.completed_on = None


def create_task(session: Session, *, project_id: int, user: User, title: str, start_date: dt.date,
                due_date: dt.date, milestone_id: int | None = None, owner_id: int | None = None,
                status: str = TaskStatus.todo, completed_on: dt.date | None = None,
                effort_days: float | None = None) -> Task:
    """Add a task to the project plan, optionally under a milestone and owned by a member."""
    if not title or not title.strip():
        raise InvalidInput("Task title is empty; say what has to be done.")
    _check_dates(start_date, due_date, f"Task {title!r}")
    task_status = _check_status(status)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        if milestone_id is not None:
            get_milestone(session, project_id=project_id, milestone_id=milestone_id)
        _check_owner(session, project_id=project_id, owner_id=owner_id)
        window.check_in_window(window.get_window(session, project_id=project_id), title.strip(), start_date,
                                   due_date)
        task = Task(project_id=project_id, milestone_id=milestone_id, title=title.strip(), owner_id=owner_id,
                    start_date=start_date, due_date=due_date, effort_days=_check_effort(effort_days))
        _apply_status(task, task_status, completed_on)
        session.add(task)
        session.flush()
    return task


def update_task(session: Session, *, project_id: int, task_id: int, user: User, title: str | None = None,
                start_date: dt.date | None = None, due_date: dt.date | None = None,
                milestone_id: Any = _UNSET, owner_id: Any = _UNSET, status: str | None = None,
                completed_on: dt.date | None = None, effort_days: Any = _UNSET) -> Task:
    """Change a task; moving it to done records the completion date (today unless given)."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        task = get_task(session, project_id=project_id, task_id=task_id)
        if title is not None:
            if not title.strip():
                raise InvalidInput("Task title is empty; say what has to be done.")
            task.title = title.strip()
        start, due = start_date or task.start_date, due_date or task.due_date
        _check_dates(start, due, f"Task {task.title!r}")
        if (start, due) != (task.start_date, task.due_date):
            window.check_in_window(window.get_window(session, project_id=project_id), task.title, start, due)
        task.start_date, task.due_date = start, due
        if effort_days is not _UNSET:
            task.effort_days = _check_effort(effort_days)
        if milestone_id is not _UNSET:
            if milestone_id is not None:
                get_milestone(session, project_id=project_id, milestone_id=milestone_id)
            task.milestone_id = milestone_id
        if owner_id is not _UNSET:
            _check_owner(session, project_id=project_id, owner_id=owner_id)
            task.owner_id = owner_id
        if status is not None:
            _apply_status(task, _check_status(status), completed_on)
        elif completed_on is not None and task.status == TaskStatus.done:
            task.completed_on = completed_on
    return task


def complete_task(session: Session, *, project_id: int, task_id: int, user: User,
                  completed_on: dt.date | None = None) -> Task:
    """Mark a task done (today unless a date is given)."""
    return update_task(session, project_id=project_id, task_id=task_id, user=user, status=TaskStatus.done,
                       completed_on=completed_on)


def schedule_items(session: Session, *, project_id: int) -> list[ScheduleItem]:
    """Return the project's milestones and tasks as plain schedule items, milestones first."""
    items = [ScheduleItem("milestone", m.id, m.name, m.start_date, m.due_date, m.completed_on)
             for m in list_milestones(session, project_id=project_id)]
    items += [ScheduleItem("task", t.id, t.title, t.start_date, t.due_date, t.completed_on)
              for t in list_tasks(session, project_id=project_id)]
    return items


def schedule_summary(session: Session, *, project_id: int, today: dt.date | None = None) -> ScheduleSummary:
    """Return counts, % done, worst slippage and next milestone of the project's plan."""
    projects_service.get_project(session, project_id=project_id)
    return ScheduleSummary.model_validate(
        summarize_schedule(schedule_items(session, project_id=project_id), today or dt.date.today()))
