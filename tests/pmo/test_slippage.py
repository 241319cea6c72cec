"""Pure slippage classification and the schedule summary."""

from __future__ import annotations

import datetime as dt

from mlpilot.pmo.slippage import ScheduleItem, Slippage, item_slippage, summarize_schedule

TODAY = dt.date(2026, 3, 10)


def item(kind: str, id_: int, start: str, due: str, done: str | None = None) -> ScheduleItem:
    return ScheduleItem(kind, id_, f"{kind} {id_}", dt.date.fromisoformat(start), dt.date.fromisoformat(due),
                        dt.date.fromisoformat(done) if done else None)


def test_item_states() -> None:
    assert item_slippage(item("task", 1, "2026-03-01", "2026-03-10"), TODAY) == Slippage("on_track", 0)
    assert item_slippage(item("task", 1, "2026-03-01", "2026-03-07"), TODAY) == Slippage("late", 3)
    assert item_slippage(item("task", 1, "2026-03-01", "2026-03-07", "2026-03-05"), TODAY) == Slippage("done", 0)
    assert item_slippage(item("task", 1, "2026-03-01", "2026-03-07", "2026-03-09"), TODAY) == Slippage("done_late", 2)


def test_summary_counts_worst_and_next_milestone() -> None:
    items = [
        item("milestone", 1, "2026-02-01", "2026-02-28", "2026-03-04"),
        item("milestone", 2, "2026-03-01", "2026-03-20"),
        item("milestone", 3, "2026-03-01", "2026-03-15"),
        item("task", 4, "2026-03-01", "2026-03-02"),
        item("task", 5, "2026-03-01", "2026-03-30"),
    ]
    summary = summarize_schedule(items, TODAY)
    assert (summary["milestones"], summary["tasks"], summary["total"]) == (3, 2, 5)
    assert (summary["done"], summary["late"], summary["done_late"]) == (1, 1, 1)
    assert summary["percent_done"] == 20.0
    assert (summary["worst_slip_days"], summary["worst_item"]) == (8, "task 4")
    assert summary["next_milestone"] == {"id": 3, "name": "milestone 3", "due_date": dt.date(2026, 3, 15),
                                         "days_left": 5}


def test_empty_plan() -> None:
    summary = summarize_schedule([], TODAY)
    assert summary["total"] == 0 and summary["percent_done"] == 0.0 and summary["next_milestone"] is None
