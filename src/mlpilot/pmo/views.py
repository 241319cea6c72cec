"""Web fragment of the pmo domain: the project plan section (Gantt chart, table, add/complete forms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlpilot.core.i18n import get_translations
from mlpilot.pmo import forecast, plan_templates, scheduling, service, workload
from mlpilot.pmo.models import TaskStatus
from mlpilot.pmo.plan_chart import GanttLabels, forecast_spec, gantt_spec
from mlpilot.projects import service as projects_service
from mlpilot.projects.models import STAGES
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
def _fragment(request: Request, session: DbSession, user: User, project_id: int, *,
              error: str | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    _ = get_translations(request_locale(request, user)).gettext
    summary = service.schedule_summary(session, project_id=project_id)
    milestones = service.list_milestones(session, project_id=project_id)
    tasks = service.list_tasks(session, project_id=project_id)
    members = projects_service.list_members(session, project_id=project_id)
    states = {(r.kind, r.id): r for r in summary.items}
    path = scheduling.critical_path(session, project_id=project_id)
    dependencies = scheduling.list_dependencies(session, project_id=project_id)
    baselines = scheduling.list_baselines(session, project_id=project_id)
    variance = scheduling.compare_baseline(session, project_id=project_id) if baselines else None
    saved: dict[int, tuple[dt.date, dt.date]] = {}
    for v in variance.tasks if variance else []:
        if v.baseline_start is not None and v.baseline_finish is not None:
            saved[v.task_id] = (v.baseline_start, v.baseline_finish)
    labels = GanttLabels(today=_("Today"), axis=_("Days from today"), baseline=_("Baseline"),
                         critical=_("Critical path"))
    chart = gantt_spec(summary, labels, path=path, baseline=saved,
                       links=[(d.predecessor_id, d.successor_id) for d in dependencies]) if summary.items else None
    outlook = forecast.forecast(session, project_id=project_id) if tasks else None
    outlook_chart = forecast_spec(outlook, draws_label=_("Draws"), p50_label="P50",
                                  p85_label="P85") if outlook and outlook.histogram else None
    height = max(160, 34 * len(summary.items) + 70)
    return render(request, "pmo/_plan.html", user=user, p=project, summary=summary, milestones=milestones,
                  tasks=tasks, members=members, states=states, chart=chart, chart_height=height,
                  milestone_names={m.id: m.name for m in milestones}, owners={u.id: u.username for _m, u in members},
                  stages=STAGES, statuses=list(TaskStatus), today=summary.today, path=path,
                  scheduled={t.id: t for t in path.tasks}, dependencies=dependencies,
                  task_titles={t.id: t.title for t in tasks}, baselines=baselines, variance=variance,
                  forecast=outlook, forecast_chart=outlook_chart,
                  loads=workload.member_workload(session, project_id=project_id)[:60],
                  templates=plan_templates.list_templates(session), locale=request_locale(request, user),
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
        else:
            _schedule_action(session, user, project_id, action, item_id, form)
    except (InvalidInput, PermissionDenied, NotFound, Conflict) as exc:
        # HTMX swaps only 2xx responses, so the section comes back with the reason shown inline.
        return _fragment(request, session, user, project_id, error=exc.detail)
    return _fragment(request, session, user, project_id)


def _optional_date(form: dict[str, Any], name: str) -> dt.date | None:
    return _date(form, name) if str(form.get(name) or "").strip() else None


def _schedule_action(session: DbSession, user: User, project_id: int, action: str, item_id: int | None,
                     form: dict[str, Any]) -> None:
    """The schedule forms: dependencies, task edits, deletions, plan from a template, baselines."""
    if action == "dependency":
        before, after = _optional_int(form, "predecessor_id"), _optional_int(form, "successor_id")
        if before is None or after is None:
            raise InvalidInput("Choose both the task that comes first and the task that waits for it.")
        scheduling.add_dependency(session, project_id=project_id, user=user, predecessor_id=before,
                                  successor_id=after, lag_days=_optional_int(form, "lag_days") or 0)
    elif action == "dependency_delete" and item_id is not None:
        scheduling.delete_dependency(session, project_id=project_id, user=user, dependency_id=item_id)
    elif action == "task_edit" and item_id is not None:
        title = str(form.get("title") or "").strip() or None
        service.update_task(session, project_id=project_id, task_id=item_id, user=user, title=title,
                            start_date=_optional_date(form, "start_date"), due_date=_optional_date(form, "due_date"))
    elif action == "task_delete" and item_id is not None:
        service.delete_task(session, project_id=project_id, task_id=item_id, user=user)
    elif action == "milestone_delete" and item_id is not None:
        service.delete_milestone(session, project_id=project_id, milestone_id=item_id, user=user)
    elif action == "template":
        plan_templates.create_plan(session, project_id=project_id, user=user, key=str(form.get("template_key", "")),
                                   start_date=_date(form, "start_date"), locale=str(form.get("locale") or "en"))
    elif action == "baseline":
        scheduling.save_baseline(session, project_id=project_id, user=user, name=str(form.get("name", "")))


PLAN = "/projects/{project_id}/_section/plan"


@router.post(f"{PLAN}/dependencies", response_class=HTMLResponse, dependencies=[access.Project.write])
async def add_dependency(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "dependency")


@router.post(f"{PLAN}/dependencies/{{dependency_id}}/delete", response_class=HTMLResponse,
             dependencies=[access.Project.write])
async def delete_dependency(project_id: int, dependency_id: int, request: Request, session: DbSession,
                            user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "dependency_delete", dependency_id)


@router.post(f"{PLAN}/tasks/{{task_id}}/edit", response_class=HTMLResponse, dependencies=[access.Project.write])
async def edit_task(project_id: int, task_id: int, request: Request, session: DbSession,
                    user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "task_edit", task_id)


@router.post(f"{PLAN}/tasks/{{task_id}}/delete", response_class=HTMLResponse, dependencies=[access.Project.write])
async def delete_task(project_id: int, task_id: int, request: Request, session: DbSession,
                      user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "task_delete", task_id)


@router.post(f"{PLAN}/milestones/{{milestone_id}}/delete", response_class=HTMLResponse,
             dependencies=[access.Project.write])
async def delete_milestone(project_id: int, milestone_id: int, request: Request, session: DbSession,
                           user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "milestone_delete", milestone_id)


@router.post(f"{PLAN}/template", response_class=HTMLResponse, dependencies=[access.Project.write])
async def plan_from_template(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "template")


@router.post(f"{PLAN}/baselines", response_class=HTMLResponse, dependencies=[access.Project.write])
async def save_baseline(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return await _act(request, session, user, project_id, "baseline")


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
