"""Chart.js configurations of the plan section: the Gantt (dependencies, critical path, baseline, today) and the
forecast histogram. Kept apart from the views so they are plain functions of the schedule data."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from mlpilot.pmo.scheduling import CriticalPathResult
from mlpilot.pmo.schemas import ForecastRead, ScheduleSummary
from mlpilot.pmo.slippage import DONE, DONE_LATE, LATE

COLORS = {LATE: "#dc2626", DONE_LATE: "#f59e0b", DONE: "#16a34a"}
OPEN_COLOR, MILESTONE_COLOR, TODAY_COLOR = "#2f5bea", "#1e3a8a", "#111827"
CRITICAL_COLOR, BASELINE_COLOR, LINK_COLOR = "#e11d48", "rgba(107, 114, 128, 0.45)", "#6b7280"


class GanttLabels(BaseModel):
    today: str
    axis: str
    baseline: str
    critical: str


def gantt_spec(summary: ScheduleSummary, labels: GanttLabels, *, path: CriticalPathResult | None = None,
               baseline: dict[int, tuple[dt.date, dt.date]] | None = None,
               links: list[tuple[int, int]] | None = None) -> dict[str, object]:
    """A horizontal floating-bar chart, x in days from today: one bar per item, the critical tasks outlined, the
    baseline as a thin grey bar under each task, a thin bar at x=0 on every row as today's line, and the
    dependency arrows drawn by the `ganttLinks` plugin of mlpilot.js (row and day of both ends)."""
    today = summary.today
    critical = {t.id for t in path.tasks if t.critical} if path else set()
    baseline = baseline or {}
    rows, bars, colors, borders, widths, base = [], [], [], [], [], []
    place: dict[int, int] = {}
    for row, item in enumerate(summary.items):
        rows.append(("◆ " if item.kind == "milestone" else "· ") + item.name[:40])
        start, end = (item.start_date - today).days, (item.due_date - today).days + 1  # a bar covers its due day
        bars.append([start, end])
        colors.append(COLORS.get(item.state, MILESTONE_COLOR if item.kind == "milestone" else OPEN_COLOR))
        on_path = item.kind == "task" and item.id in critical
        borders.append(CRITICAL_COLOR if on_path else "rgba(0,0,0,0)")
        widths.append(3 if on_path else 0)
        saved = baseline.get(item.id) if item.kind == "task" else None
        base.append([(saved[0] - today).days, (saved[1] - today).days + 1] if saved else None)
        if item.kind == "task":
            place[item.id] = row
    arrows = [[place[a], bars[place[a]][1], place[b], bars[place[b]][0], a in critical and b in critical]
              for a, b in links or [] if a in place and b in place]
    marker = [[-0.08, 0.08] for _ in summary.items]
    datasets: list[dict[str, object]] = [
        {"label": labels.today, "data": marker, "backgroundColor": TODAY_COLOR, "grouped": False,
         "barPercentage": 1.0, "categoryPercentage": 1.0, "order": 0},
        {"label": labels.axis, "data": bars, "backgroundColor": colors, "borderColor": borders,
         "borderWidth": widths, "borderSkipped": False, "grouped": False, "barPercentage": 0.6,
         "categoryPercentage": 0.9, "borderRadius": 3, "order": 1},
    ]
    if any(b is not None for b in base):
        datasets.append({"label": labels.baseline, "data": base, "backgroundColor": BASELINE_COLOR, "grouped": False,
                         "barPercentage": 0.95, "categoryPercentage": 0.95, "order": 2})
    return {
        "type": "bar",
        "data": {"labels": rows, "datasets": datasets},
        "options": {
            "indexAxis": "y",
            "plugins": {"legend": {"display": False}, "ganttLinks": {"links": arrows, "critical": CRITICAL_COLOR,
                                                                     "color": LINK_COLOR}},
            "scales": {"x": {"title": {"display": True,
                                       "text": f"{labels.axis} ({labels.today} = {today.isoformat()})"},
                             # mlpilot.js turns the day offsets into calendar dates on the axis.
                             "ticks": {"dayOffsetFrom": today.isoformat()}},
                       "y": {"ticks": {"autoSkip": False}}},
        },
    }


def forecast_spec(result: ForecastRead, *, draws_label: str, p50_label: str, p85_label: str) -> dict[str, object]:
    """The distribution of the project's finish date over the draws, the P50 and P85 bins coloured."""
    p50, p85 = result.project.p50, result.project.p85
    labels, counts, colors = [], [], []
    for day, count in result.histogram:
        labels.append(day.isoformat())
        counts.append(count)
        colors.append("#1e3a8a" if p50 and day <= p50 else "#2f5bea" if p85 and day <= p85 else "#93c5fd")
    title = f"{p50_label} {p50.isoformat() if p50 else '—'} · {p85_label} {p85.isoformat() if p85 else '—'}"
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": [{"label": draws_label, "data": counts, "backgroundColor": colors}]},
        "options": {"plugins": {"legend": {"display": False}, "title": {"display": True, "text": title}},
                    "scales": {"y": {"title": {"display": True, "text": draws_label}}}},
    }
