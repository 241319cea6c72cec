"""Schedule slippage as pure functions over plain items: on track, late, done, done late, and a summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

ON_TRACK, LATE, DONE, DONE_LATE = "on_track", "late", "done", "done_late"


@dataclass(frozen=True)
class ScheduleItem:
    kind: str  # "milestone" or "task"
    id: int
    name: str
    start_date: dt.date
    due_date: dt.date
    completed_on: dt.date | None


@dataclass(frozen=True)
class Slippage:
    state: str
    days_late: int


def item_slippage(item: ScheduleItem, today: dt.date) -> Slippage:
    """Classify one item: open and not yet due, open past due (late), done on time, or done late."""
    if item.completed_on is not None:
        late = (item.completed_on - item.due_date).days
        return Slippage(DONE_LATE, late) if late > 0 else Slippage(DONE, 0)
    late = (today - item.due_date).days
    return Slippage(LATE, late) if late > 0 else Slippage(ON_TRACK, 0)


def summarize_schedule(items: list[ScheduleItem], today: dt.date) -> dict[str, Any]:
    """Return counts, % done, the worst slippage and the next open milestone for a list of items."""
    rows: list[dict[str, Any]] = []
    for item in items:
        slip = item_slippage(item, today)
        rows.append({"kind": item.kind, "id": item.id, "name": item.name, "start_date": item.start_date,
                     "due_date": item.due_date, "completed_on": item.completed_on, "state": slip.state,
                     "days_late": slip.days_late})
    done = sum(1 for r in rows if r["state"] in (DONE, DONE_LATE))
    worst = max(rows, key=lambda r: r["days_late"], default=None)
    open_milestones = sorted(
        (i for i in items if i.kind == "milestone" and i.completed_on is None), key=lambda i: (i.due_date, i.id)
    )
    next_milestone = None
    if open_milestones:
        first = open_milestones[0]
        next_milestone = {"id": first.id, "name": first.name, "due_date": first.due_date,
                          "days_left": (first.due_date - today).days}
    return {
        "today": today,
        "milestones": sum(1 for i in items if i.kind == "milestone"),
        "tasks": sum(1 for i in items if i.kind == "task"),
        "total": len(rows),
        "done": done,
        "late": sum(1 for r in rows if r["state"] == LATE),
        "done_late": sum(1 for r in rows if r["state"] == DONE_LATE),
        "percent_done": round(100.0 * done / len(rows), 1) if rows else 0.0,
        "worst_slip_days": worst["days_late"] if worst else 0,
        "worst_item": worst["name"] if worst and worst["days_late"] > 0 else None,
        "next_milestone": next_milestone,
        "items": rows,
    }
