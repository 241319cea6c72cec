"""Member workload per ISO week from task assignments: average and peak allocation, over 100 % flagged."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.pmo.models import Task, TaskAssignment, TaskStatus
from mlpilot.pmo.schemas import WeekLoad

MAX_DAYS = 3 * 366  # a task longer than this is counted over its first three years only


def _iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def member_workload(session: Session, *, project_id: int, include_done: bool = False) -> list[WeekLoad]:
    """Return one row per member and ISO week they have assigned work in, sorted by member then week.

    A member's load on a working day is the sum of the allocations of their tasks running that day; a week's
    load is the mean over its five working days and its peak the highest day, so two full-time tasks on the
    same Monday are flagged even when the week's average is below 100 %.
    """
    stmt = (select(TaskAssignment, Task, User).join(Task, Task.id == TaskAssignment.task_id)
            .join(User, User.id == TaskAssignment.user_id).where(Task.project_id == project_id))
    daily: dict[tuple[int, dt.date], int] = defaultdict(int)
    week_tasks: dict[tuple[int, str], set[int]] = defaultdict(set)
    names: dict[int, str] = {}
    for assignment, task, user in session.execute(stmt):
        if task.status == TaskStatus.done and not include_done:
            continue
        names[user.id] = user.username
        days = min((task.due_date - task.start_date).days + 1, MAX_DAYS)
        for offset in range(days):
            day = task.start_date + dt.timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            daily[(user.id, day)] += assignment.allocation
            week_tasks[(user.id, _iso_week(day))].add(task.id)
    weeks: dict[tuple[int, str], list[int]] = defaultdict(list)
    for (user_id, day), load in daily.items():
        weeks[(user_id, _iso_week(day))].append(load)
    rows = []
    for (user_id, week), loads in sorted(weeks.items(), key=lambda kv: (names[kv[0][0]], kv[0][1])):
        peak = max(loads)
        rows.append(WeekLoad(user_id=user_id, username=names[user_id], week=week,
                             load_percent=round(sum(loads) / 5, 1), peak_percent=float(peak),
                             over_allocated=peak > 100, tasks=sorted(week_tasks[(user_id, week)])))
    return rows
