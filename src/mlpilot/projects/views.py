"""Web pages of the projects domain: the project list with its create form, and the project workspace (an
overview and one page per lifecycle stage, whose sections come from `projects.workspace.WORKSPACE`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.core.i18n import get_translations
from mlpilot.datasets import service as datasets_service
from mlpilot.monitoring import service as monitoring_service
from mlpilot.projects import archive_views, service
from mlpilot.projects.models import STAGES, Project, Stage
from mlpilot.projects.workspace import WORKSPACE, ProjectState, get_stage, next_step
from mlpilot.registry import service as registry_service
from mlpilot.serving import service as serving_service
from mlpilot.training import service as training_service
from mlpilot.usecases import service as usecases_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, redirect_after_error, render, request_locale

router = APIRouter(include_in_schema=False)
router.include_router(archive_views.router)

# The sections of the old one-page project, kept for links that still name them (each is now on a stage page).
SECTIONS = tuple(section.key for stage in WORKSPACE for section in stage.sections)
SORTS = {"name": lambda p: p.name.lower(), "created": lambda p: p.created_at, "stage": lambda p: STAGES.index(p.stage)}


def can_write(user: User) -> bool:
    """Return whether the user's role may change projects (viewers only read)."""
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]


@router.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, session: DbSession, user: PageUser,
                  q: Annotated[str, Query(max_length=200)] = "", stage: Annotated[str, Query(max_length=20)] = "",
                  sort: Literal["name", "created", "stage"] = "created",
                  order: Literal["asc", "desc"] = "desc") -> HTMLResponse:
    projects = service.list_projects(session, user=user)
    total = len(projects)
    needle = q.strip().casefold()
    if needle:
        projects = [p for p in projects if needle in f"{p.name} {p.client or ''} {p.description or ''}".casefold()]
    if stage in STAGES:
        projects = [p for p in projects if p.stage == stage]
    projects.sort(key=SORTS[sort], reverse=order == "desc")
    usecases = {u.key: u for u in usecases_service.list_usecases()}
    form = {"usecase_key": request.query_params.get("usecase", "")}
    return render(request, "projects/list.html", user=user, projects=projects, total=total, usecases=usecases,
                  form=form, can_write=can_write(user), stages=STAGES,
                  filters={"q": q, "stage": stage if stage in STAGES else "", "sort": sort, "order": order})


@router.post("/projects")
def create_project(request: Request, session: DbSession, user: PageUser, name: Annotated[str, Form()] = "",
                   client: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
                   usecase_key: Annotated[str, Form()] = "") -> Response:
    form = {"name": name, "client": client, "description": description, "usecase_key": usecase_key}
    if not name.strip():
        _ = get_translations(request_locale(request, user)).gettext
        return redirect_after_error("/projects#new-project", error=_("Give the project a name."), form=form)
    try:
        project = service.create_project(session, name=name.strip(), user=user, client=client.strip(),
                                         description=description.strip(), usecase_key=usecase_key or None)
    except (InvalidInput, Conflict) as exc:
        return redirect_after_error("/projects#new-project", error=exc.detail, form=form)
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


def project_state(session: DbSession, *, project_id: int) -> ProjectState:
    """Count what the project holds, for the overview's next step."""
    runs = training_service.list_runs(session, project_id=project_id)
    services = serving_service.list_services(session, project_id=project_id)
    with_outcomes = monitoring_service.quality_overview(session, window="7d", services=[s.name for s in services])
    return ProjectState(
        datasets=len(datasets_service.list_datasets(session, project_id=project_id)),
        runs=len(runs), succeeded_runs=sum(r.status == "succeeded" for r in runs),
        active_runs=sum(r.status in training_service.ACTIVE for r in runs),
        model_versions=len(registry_service.list_model_versions(session, project_id=project_id)),
        services=len(services), services_with_outcomes=len(with_outcomes),
        screened=bool(usecases_service.list_screenings(session, project_id=project_id)))


def _workspace(request: Request, session: DbSession, user: User, project: Project, stage_key: str,
               template: str, **context: Any) -> HTMLResponse:
    stage = get_stage(stage_key)
    section_map = {x.key: s.url(project.id) for s in WORKSPACE for x in s.sections}
    return render(request, template, user=user, p=project, workspace=WORKSPACE, stage=stage, section_map=section_map,
                  usecase=usecases_service.find_usecase(key=project.usecase_key), can_write=can_write(user),
                  error=request.query_params.get("error"), **context)


@router.get("/projects/{project_id}", response_class=HTMLResponse, dependencies=[access.Project.read])
def project_page(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    project = service.check_project_access(session, project_id=project_id, user=user)
    state = project_state(session, project_id=project_id)
    return _workspace(request, session, user, project, "overview", "projects/detail.html", state=state,
                      next=next_step(project_id, state), stages=STAGES,
                      timeline=service.stage_timeline(session, project_id=project_id),
                      members=service.list_members(session, project_id=project_id))


def _stage_page(stage_key: str) -> Callable[..., HTMLResponse]:
    def page(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
        project = service.check_project_access(session, project_id=project_id, user=user)
        extra: dict[str, Any] = {}
        if stage_key == "manage":
            extra = {"members": service.list_members(session, project_id=project_id), "stages": STAGES}
        return _workspace(request, session, user, project, stage_key, "projects/stage.html", **extra)
    page.__name__ = f"project_{stage_key}_page"
    return page


for _stage in WORKSPACE[1:]:
    router.add_api_route(f"/projects/{{project_id}}/{_stage.key}", _stage_page(_stage.key), methods=["GET"],
                         response_class=HTMLResponse, dependencies=[access.Project.read])


@router.get("/projects/{project_id}/_section/operations", response_class=HTMLResponse,
            dependencies=[access.Project.read])
def operations_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    project = service.check_project_access(session, project_id=project_id, user=user)
    traffic = monitoring_service.summarize_project_services(session, project_id=project_id)
    quality = monitoring_service.quality_overview(session, window="7d", services=[t.name for t in traffic])
    return render(request, "projects/_operations.html", user=user, p=project, traffic=traffic,
                  quality={q["service"]: q["totals"] for q in quality})


@router.post("/projects/{project_id}/stage", dependencies=[access.Project.write])
def change_stage(project_id: int, session: DbSession, user: PageUser, stage: Annotated[str, Form()],
                 note: Annotated[str, Form()] = "") -> Response:
    if stage not in STAGES:
        raise InvalidInput(f"Stage {stage!r} is unknown; expected one of: {', '.join(STAGES)}.")
    try:
        service.set_stage(session, project_id=project_id, user=user, stage=Stage(stage), note=note.strip()[:500])
    except Conflict as exc:
        # A no-go screening blocks the build stage: say why on the page rather than on a bare error page.
        return RedirectResponse(f"/projects/{project_id}?error={quote(exc.detail)}", status_code=303)
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


@router.post("/projects/{project_id}/members", dependencies=[access.Project.write])
def add_member(project_id: int, session: DbSession, user: PageUser, username: Annotated[str, Form()],
               responsibility: Annotated[str, Form()] = "") -> Response:
    service.check_project_access(session, project_id=project_id, user=user, write=True)
    try:
        service.add_member(session, project_id=project_id, user=user, username=username.strip(),
                           responsibility=responsibility.strip()[:120])
    except (NotFound, Conflict) as exc:
        # The page shows the reason next to the members list, with what was typed, instead of a bare error page.
        return redirect_after_error(f"/projects/{project_id}/manage#members", error=exc.detail,
                                    form={"username": username, "responsibility": responsibility})
    return RedirectResponse(f"/projects/{project_id}/manage#members", status_code=303)
