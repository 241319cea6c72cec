"""Use cases of the schedule: dependencies, assignments, the plan window, the critical path and baselines.

Days are counted from an origin (the earliest task start): a task of planned dates start..due lasts
(due - start + 1) days and occupies [start, start + duration) on that axis; a finish-to-start dependency with
lag L lets the successor start L days after the day following the predecessor's last day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Connection, Select, delete, select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import unit_of_work
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.pmo import engine
from mlpilot.pmo.models import (
    Baseline,
    BaselineTask,
    PlanWindow,
    Task,
    TaskAssignment,
    TaskDependency,
    TaskStatus,
)
from mlpilot.pmo.schemas import (
    BaselineRead,
    BaselineVariance,
    TaskVariance,
)
from mlpilot.pmo.service import get_task
from mlpilot.pmo.window import check_in_window
from mlpilot.projects import service as projects_service

MAX_LAG_DAYS = 3650


class TaskRow(NamedTuple):
    """The columns of a task the schedule needs: read as plain rows, 5,000 ORM objects cost too much (a named
    tuple: building 5,000 of them costs a tenth of frozen dataclasses)."""

    id: int
    title: str
    milestone_id: int | None
    status: str
    start_date: dt.date
    due_date: dt.date
    completed_on: dt.date | None


class ScheduledRow(NamedTuple):
    """A task as the critical path schedules it (the fields of schemas.ScheduledTask, built without validation:
    5,000 pydantic objects cost more than the whole computation)."""

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


@dataclass(frozen=True)
class CriticalPathResult:
    project_id: int
    finish: dt.date | None
    critical_path: list[ScheduledRow]
    tasks: list[ScheduledRow]


@dataclass(frozen=True)
class Graph:
    """The project's tasks as arrays for the engine, in `tasks` order."""

    tasks: list[TaskRow]
    origin: dt.date
    duration: np.ndarray
    earliest: np.ndarray
    pred: np.ndarray
    succ: np.ndarray
    lag: np.ndarray


def planned_days(task: Task | TaskRow) -> int:
    return (task.due_date - task.start_date).days + 1


def actual_days(task: Task | TaskRow) -> int | None:
    """Days the task took, when done (at least one)."""
    if task.status != TaskStatus.done or task.completed_on is None:
        return None
    return max(1, (task.completed_on - task.start_date).days + 1)


def list_dependencies(session: Session, *, project_id: int) -> list[TaskDependency]:
    stmt = select(TaskDependency).where(TaskDependency.project_id == project_id).order_by(TaskDependency.id)
    return list(session.scalars(stmt))


def load_graph(session: Session, *, project_id: int,
               extra: tuple[int, int, int] | None = None) -> Graph:
    """Return the project's tasks and dependencies as arrays (plus `extra` (pred, succ, lag) if given)."""
    # Core selects on the session's connection: plain tuples, no ORM row processing (5,000 rows cost 3x more
    # through the ORM layer). Flush first, as an ORM query would, so pending changes are seen.
    session.flush()
    connection = session.connection()
    columns = (Task.id, Task.title, Task.milestone_id, Task.status, Task.start_date, Task.due_date, Task.completed_on)
    tasks = [TaskRow._make(row) for row in _tuples(connection, select(*columns).where(Task.project_id == project_id)
                                                   .order_by(Task.id))]
    links = select(TaskDependency.predecessor_id, TaskDependency.successor_id, TaskDependency.lag_days).where(
        TaskDependency.project_id == project_id)
    edges = np.array(_tuples(connection, links), dtype=np.int64).reshape(-1, 3)
    if extra is not None:
        edges = np.vstack([edges, np.array([extra], dtype=np.int64)])
    ids = np.array([t.id for t in tasks], dtype=np.int64)
    origin = min((t.start_date for t in tasks), default=dt.date.today())
    start = np.array([t.start_date.toordinal() for t in tasks], dtype=np.int64)
    due = np.array([t.due_date.toordinal() for t in tasks], dtype=np.int64)
    closed = np.array([actual_days(t) or 0 for t in tasks], dtype=np.float64)
    duration = np.where(closed > 0, closed, (due - start + 1).astype(np.float64))
    earliest = (start - origin.toordinal()).astype(np.float64)
    # Task ids are ascending (ORDER BY id), so a binary search maps ids to positions.
    pred = np.searchsorted(ids, edges[:, 0]).astype(np.int64)
    succ = np.searchsorted(ids, edges[:, 1]).astype(np.int64)
    lag = edges[:, 2].astype(np.float64)
    return Graph(tasks, origin, duration, earliest, pred, succ, lag)


def _tuples(connection: Connection, statement: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of a Core select as plain tuples. On PostgreSQL the compiled statement runs on the driver's cursor:
    psycopg already hands back typed values, and skipping SQLAlchemy's Row objects halves the time of 5,000
    rows. Elsewhere (SQLite stores dates as text) SQLAlchemy's result processing is needed."""
    if connection.dialect.name != "postgresql":
        return [tuple(row) for row in connection.execute(statement).all()]
    compiled = statement.compile(dialect=connection.dialect)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), compiled.params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def scheduling_levels(graph: Graph) -> engine.Levels:
    """Return the graph's levels, or refuse its cycle naming the tasks around it."""
    try:
        return engine.levels(len(graph.tasks), graph.pred, graph.succ, graph.lag)
    except engine.DependencyCycle as exc:
        names = [f"{graph.tasks[i].title!r} (task {graph.tasks[i].id})" for i in exc.cycle]
        loop = " → ".join([*names, names[0]])
        raise engine.DependencyCycle(f"The dependencies would form a cycle: {loop}. "
                                     "A task cannot wait for itself; remove one of these links.", exc.cycle) from None


def critical_path(session: Session, *, project_id: int) -> CriticalPathResult:
    """Return every task with its scheduled dates, total float and critical flag, and the critical path."""
    projects_service.get_project(session, project_id=project_id)
    graph = load_graph(session, project_id=project_id)
    if not graph.tasks:
        return CriticalPathResult(project_id=project_id, finish=None, critical_path=[], tasks=[])
    result = engine.critical_path(graph.duration, graph.earliest, graph.pred, graph.succ, graph.lag,
                                  scheduling_levels(graph))
    # Whole-array conversions, then plain rows: the values are typed already.
    starts = np.rint(result.early_start).astype(np.int64).tolist()
    finishes = (np.rint(result.early_finish).astype(np.int64) - 1).tolist()
    floats = np.round(result.total_float, 2).tolist()
    critical = result.critical.tolist()
    day = [graph.origin + dt.timedelta(days=k) for k in range(max(finishes) + 1)] if finishes else []
    rows = [ScheduledRow(t.id, t.title, t.milestone_id, t.status, day[a], day[b], t.start_date, t.due_date, f, c)
            for t, a, b, f, c in zip(graph.tasks, starts, finishes, floats, critical, strict=True)]
    finish_date = graph.origin + dt.timedelta(days=round(result.finish) - 1)
    return CriticalPathResult(project_id=project_id, finish=finish_date,
                            critical_path=[rows[i] for i in result.path], tasks=rows)


def add_dependency(session: Session, *, project_id: int, user: User, predecessor_id: int, successor_id: int,
                   lag_days: int = 0) -> TaskDependency:
    """Make `successor_id` wait for `predecessor_id` (+ lag days); refuse self-links, duplicates and cycles."""
    if not -MAX_LAG_DAYS <= lag_days <= MAX_LAG_DAYS:
        raise InvalidInput(f"lag_days {lag_days} is out of range; expected -{MAX_LAG_DAYS}..{MAX_LAG_DAYS}.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        before = get_task(session, project_id=project_id, task_id=predecessor_id)
        after = get_task(session, project_id=project_id, task_id=successor_id)
        if before.id == after.id:
            raise InvalidInput(f"Task {before.title!r} (task {before.id}) cannot depend on itself.")
        exists = session.scalar(select(TaskDependency.id).where(TaskDependency.predecessor_id == before.id,
                                                                TaskDependency.successor_id == after.id))
        if exists is not None:
            raise InvalidInput(f"Task {after.title!r} already depends on {before.title!r} (dependency {exists}).")
        scheduling_levels(load_graph(session, project_id=project_id, extra=(before.id, after.id, lag_days)))
        dependency = TaskDependency(project_id=project_id, predecessor_id=before.id, successor_id=after.id,
                                    lag_days=lag_days)
        session.add(dependency)
        session.flush()
    return dependency


def delete_dependency(session: Session, *, project_id: int, user: User, dependency_id: int) -> None:
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        dependency = session.get(TaskDependency, dependency_id)
        if dependency is None or dependency.project_id != project_id:
            raise NotFound(f"Dependency {dependency_id} does not exist in project {project_id}.")
        session.delete(dependency)


def list_assignments(session: Session, *, project_id: int) -> list[TaskAssignment]:
    stmt = (select(TaskAssignment).join(Task, Task.id == TaskAssignment.task_id)
            .where(Task.project_id == project_id).order_by(TaskAssignment.task_id, TaskAssignment.user_id))
    return list(session.scalars(stmt))


def set_assignments(session: Session, *, project_id: int, user: User, task_id: int,
                    assignments: list[tuple[int, int]]) -> list[TaskAssignment]:
    """Replace the task's assignees by (user_id, allocation %) pairs; every assignee must be a project member."""
    seen: set[int] = set()
    for user_id, allocation in assignments:
        if user_id in seen:
            raise InvalidInput(f"assignments: user {user_id} is listed twice.")
        seen.add(user_id)
        if not 1 <= allocation <= 100:
            raise InvalidInput(f"assignments: allocation {allocation} of user {user_id} is out of range; "
                               "expected 1..100 (% of the member's time).")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        task = get_task(session, project_id=project_id, task_id=task_id)
        for user_id, _allocation in assignments:
            if not projects_service.is_member(session, project_id=project_id, user_id=user_id):
                raise InvalidInput(f"assignments: user {user_id} is not a member of project {project_id}; "
                                   "add the user to the project first or choose a member.")
        session.execute(delete(TaskAssignment).where(TaskAssignment.task_id == task.id))
        rows = [TaskAssignment(task_id=task.id, user_id=u, allocation=a) for u, a in assignments]
        session.add_all(rows)
        session.flush()
    return rows


def set_window(session: Session, *, project_id: int, user: User, start_date: dt.date,
               end_date: dt.date | None) -> PlanWindow:
    """Set the project's planned period; refuse one that leaves existing tasks outside, naming them."""
    if end_date is not None and end_date < start_date:
        raise InvalidInput(f"end_date {end_date.isoformat()} is before start_date {start_date.isoformat()}.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        window = session.get(PlanWindow, project_id) or PlanWindow(project_id=project_id)
        window.start_date, window.end_date = start_date, end_date
        for task in session.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id)):
            check_in_window(window, task.title, task.start_date, task.due_date)
        session.add(window)
        session.flush()
    return window


def save_baseline(session: Session, *, project_id: int, user: User, name: str) -> BaselineRead:
    """Snapshot every task's planned dates under `name`."""
    if not name.strip():
        raise InvalidInput("Baseline name is empty; name the baseline (e.g. 'Signed plan').")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        tasks = list(session.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id)))
        if not tasks:
            raise InvalidInput("The plan has no tasks yet; add tasks before saving a baseline.")
        baseline = Baseline(project_id=project_id, name=name.strip(), created_by_id=user.id)
        session.add(baseline)
        session.flush()
        session.add_all([BaselineTask(baseline_id=baseline.id, task_id=t.id, title=t.title, start_date=t.start_date,
                                      due_date=t.due_date) for t in tasks])
        session.flush()
    return BaselineRead(id=baseline.id, project_id=project_id, name=baseline.name, created_at=baseline.created_at,
                        tasks=len(tasks))


def list_baselines(session: Session, *, project_id: int) -> list[BaselineRead]:
    rows = session.scalars(select(Baseline).where(Baseline.project_id == project_id).order_by(Baseline.id.desc()))
    out = []
    for b in rows:
        count = len(session.scalars(select(BaselineTask.id).where(BaselineTask.baseline_id == b.id)).all())
        out.append(BaselineRead(id=b.id, project_id=project_id, name=b.name, created_at=b.created_at, tasks=count))
    return out


def compare_baseline(session: Session, *, project_id: int, baseline_id: int | None = None) -> BaselineVariance:
    """Per task: baseline vs current dates and the variance in days (positive = later than the baseline)."""
    stmt = select(Baseline).where(Baseline.project_id == project_id)
    if baseline_id is not None:
        stmt = stmt.where(Baseline.id == baseline_id)
    baseline = session.scalars(stmt.order_by(Baseline.id.desc())).first()
    if baseline is None:
        raise NotFound(f"Baseline {baseline_id} does not exist in project {project_id}." if baseline_id else
                       f"Project {project_id} has no baseline yet; save one first.")
    saved = {b.task_id: b for b in session.scalars(select(BaselineTask).where(BaselineTask.baseline_id == baseline.id))}
    rows = []
    for task in session.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id)):
        base = saved.get(task.id)
        finish = task.completed_on if task.status == TaskStatus.done and task.completed_on else task.due_date
        rows.append(TaskVariance(
            task_id=task.id, title=task.title, baseline_start=base.start_date if base else None,
            baseline_finish=base.due_date if base else None, start=task.start_date, finish=finish,
            start_variance_days=(task.start_date - base.start_date).days if base else None,
            finish_variance_days=(finish - base.due_date).days if base else None))
    removed = [b.title for b in saved.values() if b.task_id is None]
    return BaselineVariance(baseline_id=baseline.id, name=baseline.name, created_at=baseline.created_at,
                            tasks=rows, removed_tasks=removed)
