"""Web pages of the projects domain: the project list with its create form, and the project page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.core.i18n import get_translations
from mlpilot.projects import archive_views, service
from mlpilot.projects.models import STAGES, Stage
from mlpilot.usecases import service as usecases_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
router.include_router(archive_views.router)

# Sections of the project page, each a fragment served by its domain's views at /projects/{id}/_section/<name>.
SECTIONS = ("screening", "plan", "datasets", "runs", "models", "services", "reports")


def can_write(user: User) -> bool:
    """Return whether the user's role may change projects (viewers only read)."""
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]


def _list_page(request: Request, session: DbSession, user: User, *, form: dict[str, str] | None = None,
               error: str | None = None, status_code: int = 200) -> HTMLResponse:
    projects = service.list_projects(session, user=user)
    usecases = {u.key: u for u in usecases_service.list_usecases()}
    form = form or {"usecase_key": request.query_params.get("usecase", "")}
    return render(request, "projects/list.html", user=user, projects=projects, usecases=usecases, form=form,
                  error=error, can_write=can_write(user), status_code=status_code)


@router.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _list_page(request, session, user)


@router.post("/projects")
def create_project(request: Request, session: DbSession, user: PageUser, name: Annotated[str, Form()] = "",
                   client: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
                   usecase_key: Annotated[str, Form()] = "") -> Response:
    form = {"name": name, "client": client, "description": description, "usecase_key": usecase_key}
    if not name.strip():
        _ = get_translations(request_locale(request, user)).gettext
        return _list_page(request, session, user, form=form, error=_("Give the project a name."), status_code=422)
    try:
        project = service.create_project(session, name=name.strip(), user=user, client=client.strip(),
                                         description=description.strip(), usecase_key=usecase_key or None)
    except (InvalidInput, Conflict) as exc:
        return _list_page(request, session, user, form=form, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


@router.get("/projects/{project_id}", response_class=HTMLResponse, dependencies=[access.Project.read])
def project_page(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    project = service.check_project_access(session, project_id=project_id, user=user)
    usecase = usecases_service.find_usecase(key=project.usecase_key)
    return render(request, "projects/detail.html", user=user, p=project, usecase=usecase,
                  timeline=service.stage_timeline(session, project_id=project_id),
                  members=service.list_members(session, project_id=project_id), stages=STAGES,
                  sections=SECTIONS, can_write=can_write(user), error=request.query_params.get("error"))


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
        # The page shows the reason next to the members list instead of a bare error page.
        return RedirectResponse(f"/projects/{project_id}?error={quote(exc.detail)}#members", status_code=303)
    return RedirectResponse(f"/projects/{project_id}#members", status_code=303)
