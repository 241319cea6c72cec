"""Use cases of the schedule: dependencies, assignments, the plan window, the critical path and baselines.

Days are counted from an origin (the earliest task start): a task of planned dates start..due lasts
(due - start + 1) days and occupies [start, start + duration) on that axis; a finish-to-start dependency with
lag L lets the successor start L days after the day following the predecessor's last day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
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


@dataclass(frozen=True, slots=True)
class TaskRow:
    """The columns of a task the schedule needs: read as plain rows, 5,000 ORM objects cost too much."""

    id: int
    title: str
    milestone_id: int | None
    status: str
    start_date: dt.date
    due_date: dt.date
    completed_on: dt.date | None


@dataclass(frozen=True, slots=True)
class ScheduledRow:
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
    columns = (Task.id, Task.title, Task.milestone_id, Task.status, Task.start_date, Task.due_date, Task.completed_on)
    tasks = [TaskRow(*row) for row in session.execute(select(*columns).where(Task.project_id == project_id)
                                                      .order_by(Task.id))]
    index = {t.id: i for i, t in enumerate(tasks)}
    links = select(TaskDependency.predecessor_id, TaskDependency.successor_id, TaskDependency.lag_days).where(
        TaskDependency.project_id == project_id)
    edges: list[tuple[int, int, int]] = [(a, b, lag) for a, b, lag in session.execute(links)]
    if extra is not None:
        edges.append(extra)
    origin = min((t.start_date for t in tasks), default=dt.date.today())
    duration = np.array([actual_days(t) or planned_days(t) for t in tasks], dtype=np.float64)
    earliest = np.array([(t.start_date - origin).days for t in tasks], dtype=np.float64)
    pred = np.array([index[a] for a, _b, _l in edges], dtype=np.int64)
    succ = np.array([index[b] for _a, b, _l in edges], dtype=np.int64)
    lag = np.array([float(lag) for _a, _b, lag in edges], dtype=np.float64)
    return Graph(tasks, origin, duration, earliest, pred, succ, lag)


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
    rows = [ScheduledRow(
        id=t.id, title=t.title, milestone_id=t.milestone_id, status=t.status, start=day[starts[i]],
        finish=day[finishes[i]], planned_start=t.start_date, planned_finish=t.due_date, float_days=floats[i],
        critical=critical[i]) for i, t in enumerate(graph.tasks)]
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
