"""Web fragment of the pmo domain: the project plan section (Gantt chart, table, add/complete forms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import InvalidInput, NotFound, PermissionDenied
from mlpilot.core.i18n import get_translations
from mlpilot.pmo import service
from mlpilot.pmo.models import TaskStatus
from mlpilot.pmo.schemas import ScheduleSummary
from mlpilot.pmo.slippage import DONE, DONE_LATE, LATE
from mlpilot.projects import service as projects_service
from mlpilot.projects.models import STAGES
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
COLORS = {LATE: "#dc2626", DONE_LATE: "#f59e0b", DONE: "#16a34a"}
OPEN_COLOR, MILESTONE_COLOR, TODAY_COLOR = "#2f5bea", "#1e3a8a", "#111827"


def gantt_spec(summary: ScheduleSummary, *, today_label: str, axis_label: str) -> dict[str, Any]:
    """Return a Chart.js horizontal floating-bar config: one bar per item, x in days from today, 0 marked."""
    today = summary.today
    items = summary.items
    labels, bars, colors = [], [], []
    for item in items:
        labels.append(("◆ " if item.kind == "milestone" else "· ") + item.name[:40])
        start = (item.start_date - today).days
        end = (item.due_date - today).days + 1  # a bar covers its due day
        bars.append([start, end])
        color = COLORS.get(item.state, MILESTONE_COLOR if item.kind == "milestone" else OPEN_COLOR)
        colors.append(color)
    # The "today" marker: a thin bar at x=0 on every row, drawn over the items, so it reads as a vertical line.
    marker = [[-0.08, 0.08] for _ in items]
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": [
            {"label": today_label, "data": marker, "backgroundColor": TODAY_COLOR, "grouped": False,
             "barPercentage": 1.0, "categoryPercentage": 1.0, "order": 0},
            {"label": axis_label, "data": bars, "backgroundColor": colors, "grouped": False,
             "barPercentage": 0.7, "categoryPercentage": 0.9, "borderRadius": 3, "order": 1},
        ]},
        "options": {
            "indexAxis": "y",
            "plugins": {"legend": {"display": False}},
            "scales": {"x": {"title": {"display": True, "text": f"{axis_label} ({today_label} = {today.isoformat()})"}},
                       "y": {"ticks": {"autoSkip": False}}},
        },
    }


def _fragment(request: Request, session: DbSession, user: User, project_id: int, *,
              error: str | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    _ = get_translations(request_locale(request, user)).gettext
    summary = service.schedule_summary(session, project_id=project_id)
    milestones = service.list_milestones(session, project_id=project_id)
    tasks = service.list_tasks(session, project_id=project_id)
    members = projects_service.list_members(session, project_id=project_id)
    states = {(r.kind, r.id): r for r in summary.items}
    chart = gantt_spec(summary, today_label=_("Today"), axis_label=_("Days from today")) if summary.items else None
    height = max(160, 34 * len(summary.items) + 70)
    return render(request, "pmo/_plan.html", user=user, p=project, summary=summary, milestones=milestones,
                  tasks=tasks, members=members, states=states, chart=chart, chart_height=height,
                  milestone_names={m.id: m.name for m in milestones}, owners={u.id: u.username for _m, u in members},
                  stages=STAGES, statuses=list(TaskStatus), today=summary.today,
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member], error=error)


@router.get("/projects/{project_id}/_section/plan", response_class=HTMLResponse, dependencies=[access.Project.read])
def plan_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _fragment(request, session, user, project_id)


def _date(form: Any, name: str) -> dt.date:
    value = str(form.get(name) or "")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date; expected YYYY-MM-DD.") from None


def _optional_int(form: Any, name: str) -> int | None:
    value = str(form.get(name) or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a number.") from None


async def _act(request: Request, session: DbSession, user: User, project_id: int, action: str,
               item_id: int | None = None) -> HTMLResponse:
    form = dict(await request.form())
    # The database work is synchronous: keep it off the event loop.
    return await run_in_threadpool(_act_sync, request, session, user, project_id, action, item_id, form)


def _act_sync(request: Request, session: DbSession, user: User, project_id: int, action: str,
              item_id: int | None, form: dict[str, Any]) -> HTMLResponse:
    try:
        if action == "milestone":
            service.create_milestone(session, project_id=project_id, user=user, name=str(form.get("name", "")),
                                     start_date=_date(form, "start_date"), due_date=_date(form, "due_date"),
                                     stage=str(form.get("stage") or "") or None,
                                     description=str(form.get("description", "")))
        elif action == "task":
            service.create_task(session, project_id=project_id, user=user, title=str(form.get("title", "")),
                                start_date=_date(form, "start_date"), due_date=_date(form, "due_date"),
                                milestone_id=_optional_int(form, "milestone_id"),
                                owner_id=_optional_int(form, "owner_id"))
        elif action == "milestone_done" and item_id is not None:
            service.complete_milestone(session, project_id=project_id, milestone_id=item_id, user=user)
        elif action == "task_status" and item_id is not None:
            service.update_task(session, project_id=project_id, task_id=item_id, user=user,
                                status=str(form.get("status", TaskStatus.done)))
    except (InvalidInput, PermissionDenied, NotFound) as exc:
        # HTMX swaps only 2xx responses, so the section comes back with the reason shown inline.
        return _fragment(request, session, user, project_id, error=exc.detail)
    return _fragment(request, session, user, project_id)


@router.post("/projects/{project_id}/_section/plan/milestones", response_class=HTMLResponse,
        dependencies=[access.Project.write])
async def add_milestone(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "milestone")


@router.post("/projects/{project_id}/_section/plan/tasks", response_class=HTMLResponse,
        dependencies=[access.Project.write])
async def add_task(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "task")


@router.post("/projects/{project_id}/_section/plan/milestones/{milestone_id}/done", response_class=HTMLResponse,
        dependencies=[access.Project.write])
async def milestone_done(project_id: int, milestone_id: int, request: Request, session: DbSession,
                         user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "milestone_done", milestone_id)


@router.post("/projects/{project_id}/_section/plan/tasks/{task_id}/status", response_class=HTMLResponse,
        dependencies=[access.Project.write])
async def task_status(project_id: int, task_id: int, request: Request, session: DbSession,
                      user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "task_status", task_id)
