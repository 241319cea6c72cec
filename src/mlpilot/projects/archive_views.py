"""The project's archive page: archive with a reason (confirmed), restore, and the history of both.

Included by `projects.views`; the project page's navigation links here (/projects/{id}/archive).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import MlpilotError
from mlpilot.projects import archive, service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, page_gettext, render

router = APIRouter(include_in_schema=False)


def _page(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
          form: dict[str, str] | None = None) -> HTMLResponse:
    project = service.check_project_access(session, project_id=project_id, user=user)
    changes = archive.list_archive_changes(session, project_id=project_id)
    users = {c.user_id: accounts_service.get_user(session, user_id=c.user_id).username
             for c in changes if c.user_id is not None}
    return render(request, "projects/archive.html", user=user, p=project, changes=changes, users=users,
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member], error=error, form=form or {},
                  status_code=422 if error else 200)


@router.get("/projects/{project_id}/archive", response_class=HTMLResponse, dependencies=[access.Project.read])
def archive_page(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _page(request, session, user, project_id)


@router.post("/projects/{project_id}/archive", response_class=HTMLResponse, dependencies=[access.Project.write])
async def archive_form(project_id: int, request: Request, session: DbSession, user: PageUser) -> Response:
    return await _act(request, session, user, project_id, "archive")


@router.post("/projects/{project_id}/restore", response_class=HTMLResponse, dependencies=[access.Project.write])
async def restore_form(project_id: int, request: Request, session: DbSession, user: PageUser) -> Response:
    return await _act(request, session, user, project_id, "restore")


async def _act(request: Request, session: DbSession, user: User, project_id: int, action: str) -> Response:
    form = {k: str(v)[:600] for k, v in (await request.form()).items()}
    try:
        if action == "archive":
            archive.archive_project(session, project_id=project_id, user=user, reason=form.get("reason", ""))
        else:
            archive.restore_project(session, project_id=project_id, user=user, reason=form.get("reason", ""))
    except MlpilotError as exc:
        session.rollback()
        return _page(request, session, user, project_id, form={**form, "action": action},
                     error=exc.localized(page_gettext(request, user)))
    return RedirectResponse(f"/projects/{project_id}/archive", status_code=303)
