"""Web pages of the feeder: the project-page section listing pipelines with their runs, and its forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.connections import service as connections_service
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.feeder import schedule as cron
from mlpilot.feeder import service
from mlpilot.feeder.models import ACTIVE
from mlpilot.projects import service as projects_service
from mlpilot.projects.workspace import section_url
from mlpilot.recipes import service as recipes_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)
HISTORY_ROWS = 5
FORM_ERROR = "feeder/form_error.html"


def _can_write(user: User) -> bool:
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]


def _choices(session: DbSession, project_id: int) -> dict[str, list[dict[str, Any]]]:
    """Connections and recipe versions the create form offers."""
    connections = [{"id": c.id, "label": f"{c.name} ({c.kind})"}
                   for c in connections_service.list_connections(session, project_id=project_id)]
    recipe_versions = [{"id": v.id, "label": f"{r.name} v{v.version}"}
                       for r in recipes_service.list_recipes(session, project_id=project_id) for v in r.versions]
    return {"connections": connections, "recipe_versions": recipe_versions}


def _section(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
             form: dict[str, str] | None = None, status_code: int = 200,
             template: str = "feeder/_section.html") -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    rows: list[dict[str, Any]] = []
    for pipeline in service.list_pipelines(session, project_id=project_id):
        runs = service.list_pipeline_runs(session, pipeline_id=pipeline.id, limit=HISTORY_ROWS)
        upcoming = (cron.upcoming_runs(pipeline.schedule, pipeline.next_run_at, count=2, timezone=pipeline.timezone)
                    if pipeline.enabled and pipeline.schedule and pipeline.next_run_at else [])
        rows.append({"pipeline": pipeline, "runs": runs, "last": runs[0] if runs else None, "upcoming": upcoming})
    active = any(r["last"] is not None and r["last"].status in ACTIVE for r in rows)
    return render(request, template, user=user, p=project, rows=rows, error=error,
                  form=form or {"timezone": "UTC", "mode": "append"}, active=active,
                  can_write=_can_write(user), status_code=status_code, **_choices(session, project_id))


@router.get("/projects/{project_id}/_section/pipelines", response_class=HTMLResponse,
        dependencies=[access.Project.read])
def pipelines_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


def _int_or_none(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"Field {field!r} must be a whole number; got {value!r}.") from None


@router.post("/projects/{project_id}/pipelines/create", dependencies=[access.Project.write])
def create_from_form(project_id: int, request: Request, session: DbSession, user: PageUser,
                     name: Annotated[str, Form()] = "", connection_id: Annotated[str, Form()] = "",
                     recipe_version_id: Annotated[str, Form()] = "", dataset_name: Annotated[str, Form()] = "",
                     mode: Annotated[str, Form()] = "append", schedule: Annotated[str, Form()] = "",
                     timezone: Annotated[str, Form()] = "UTC", min_new_rows: Annotated[str, Form()] = "",
                     target: Annotated[str, Form()] = "", time_budget_s: Annotated[str, Form()] = "") -> Response:
    form = {"name": name, "connection_id": connection_id, "recipe_version_id": recipe_version_id,
            "dataset_name": dataset_name, "mode": mode, "schedule": schedule, "timezone": timezone or "UTC",
            "min_new_rows": min_new_rows, "target": target, "time_budget_s": time_budget_s}
    try:
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        connection = _int_or_none(connection_id, "connection_id")
        if connection is None:
            raise InvalidInput("Choose the connection the pipeline reads from.")
        triggers = []
        rows = _int_or_none(min_new_rows, "min_new_rows")
        if rows is not None or target.strip():
            budget = _int_or_none(time_budget_s, "time_budget_s") or 60
            triggers.append({"kind": "min_new_rows", "rows": rows, "train": {"target": target.strip(),
                                                                             "time_budget_s": budget}})
        service.create_pipeline(session, project_id=project_id, name=name, connection_id=connection,
                                dataset_name=dataset_name, user_id=user.id,
                                recipe_version_id=_int_or_none(recipe_version_id, "recipe_version_id"), mode=mode,
                                schedule=schedule, timezone=timezone.strip() or "UTC", triggers=triggers)
    except (InvalidInput, Conflict, NotFound) as exc:
        return _section(request, session, user, project_id, error=exc.detail, form=form, status_code=exc.status,
                        template=FORM_ERROR)
    return RedirectResponse(section_url(project_id, "pipelines"), status_code=303)


@router.post("/pipelines/{pipeline_id}/run-now", dependencies=[access.Pipeline.write])
def run_from_form(pipeline_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                  user: PageUser) -> Response:
    pipeline = service.get_pipeline(session, pipeline_id=pipeline_id)
    projects_service.check_project_access(session, project_id=pipeline.project_id, user=user, write=True)
    try:
        service.start_pipeline_run(session, runtime=runtime, pipeline_id=pipeline_id, user_id=user.id)
    except Conflict as exc:
        return _section(request, session, user, pipeline.project_id, error=exc.detail, status_code=exc.status,
                        template=FORM_ERROR)
    return RedirectResponse(section_url(pipeline.project_id, "pipelines"), status_code=303)


@router.post("/pipelines/{pipeline_id}/toggle", dependencies=[access.Pipeline.write])
def toggle_from_form(pipeline_id: int, session: DbSession, user: PageUser) -> Response:
    pipeline = service.get_pipeline(session, pipeline_id=pipeline_id)
    projects_service.check_project_access(session, project_id=pipeline.project_id, user=user, write=True)
    service.update_pipeline(session, pipeline_id=pipeline_id, enabled=not pipeline.enabled)
    return RedirectResponse(section_url(pipeline.project_id, "pipelines"), status_code=303)


@router.get("/pipeline-runs/{run_id}/_log", response_class=HTMLResponse, dependencies=[access.PipelineRun.read])
def run_log_fragment(run_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    run = service.get_pipeline_run(session, run_id=run_id)
    pipeline = service.get_pipeline(session, pipeline_id=run.pipeline_id)
    projects_service.check_project_access(session, project_id=pipeline.project_id, user=user)
    return render(request, "feeder/_log.html", user=user, run=run,
                  log=service.get_run_log(session, run_id=run_id))
