"""Web fragment of the reports domain: a project's documents and their versions, the render form and job progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput, PermissionDenied
from mlpilot.core.jobs import FINISHED
from mlpilot.projects import service as projects_service
from mlpilot.reports import service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


def _fragment(request: Request, session: DbSession, user: User, project_id: int, *,
              error: str | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    render_jobs = service.list_render_jobs(session, project_id=project_id)
    pending = [j for j in render_jobs if j.state not in FINISHED]
    last_failed = render_jobs[0] if render_jobs and render_jobs[0].state == "failed" else None
    return render(request, "reports/_reports.html", user=user, p=project,
                  reports=service.list_reports(session, project_id=project_id), pending=pending,
                  last_failed=last_failed, error=error,
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member])


@router.get("/projects/{project_id}/_section/reports", response_class=HTMLResponse, dependencies=[access.Project.read])
def reports_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _fragment(request, session, user, project_id)


@router.post("/projects/{project_id}/_section/reports", response_class=HTMLResponse,
        dependencies=[access.Project.write])
def render_report(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                  locale: Annotated[str, Form(max_length=8)] = "en",
                  kind: Annotated[str, Form(max_length=20)] = "status") -> HTMLResponse:
    try:
        service.request_report(session, runtime=runtime, project_id=project_id, user=user, locale=locale,
                               kind=kind)
    except (InvalidInput, PermissionDenied) as exc:
        return _fragment(request, session, user, project_id, error=exc.detail)
    return _fragment(request, session, user, project_id)
