"""Web pages of data connections: the project's connections with kind-specific add forms, and a connection's page
to test it, preview rows, start an ingest and watch its job."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.connections import service as service
from mlpilot.connections.models import Connection
from mlpilot.core import jobs
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput
from mlpilot.datasets.profiling import json_safe
from mlpilot.projects import service as projects_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)
PREVIEW_ROWS = 20
FILE_FIELDS = ("path", "format", "encoding", "delimiter", "header", "sheet", "header_row", "on_bad_rows",
               "watermark_column")
SQL_FIELDS = ("url", "table", "query", "watermark_column")


def _can_write(user: User) -> bool:
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]


def _readable(session: DbSession, user: User, connection_id: int) -> tuple[Connection, Any]:
    connection = service.get_connection(session, connection_id=connection_id)
    project = projects_service.check_project_access(session, project_id=connection.project_id, user=user)
    return connection, project


def _ingest_jobs(session: DbSession, connection: Connection) -> list[jobs.Job]:
    return [j for j in jobs.list_jobs(session, project_id=connection.project_id, limit=200)
            if j.kind == service.INGEST_JOB and j.params.get("connection_id") == connection.id][:10]


def _list_page(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
               form: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    return render(request, "connections/list.html", user=user, p=project, error=error, form=form or {},
                  rows=service.list_connections(session, project_id=project_id), can_write=_can_write(user),
                  status_code=status_code)


@router.get("/projects/{project_id}/_section/connections", response_class=HTMLResponse,
        dependencies=[access.Project.read])
def connections_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    return render(request, "connections/_section.html", user=user, p=project,
                  rows=service.list_connections(session, project_id=project_id))


@router.get("/projects/{project_id}/connections", response_class=HTMLResponse, dependencies=[access.Project.read])
def connections_page(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _list_page(request, session, user, project_id)


@router.post("/projects/{project_id}/connections", dependencies=[access.Project.write])
async def create_from_form(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                           user: PageUser) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    kind = form.get("kind", "")
    fields = FILE_FIELDS if kind == "file" else SQL_FIELDS
    settings = {f: form[f].strip() for f in fields if form.get(f, "").strip()}
    secrets: dict[str, Any] = {}
    try:
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        if kind == "sql" and form.get("password"):
            secrets["password"] = form["password"]
        if kind == "file" and form.get("storage_options", "").strip():
            try:
                secrets["storage_options"] = json.loads(form["storage_options"])
            except json.JSONDecodeError:
                raise InvalidInput("Storage options must be a JSON object, e.g. {\"key\": \"…\"}.") from None
        connection = service.create_connection(session, runtime=runtime, project_id=project_id,
                                               name=form.get("name", ""), kind=kind, settings=settings,
                                               secrets=secrets, user_id=user.id)
    except InvalidInput as exc:
        # Secrets are never echoed back into the form.
        safe = {k: v for k, v in form.items() if k not in ("password", "storage_options")}
        return _list_page(request, session, user, project_id, error=exc.detail, form=safe,
                          status_code=exc.status)
    return RedirectResponse(f"/connections/{connection.id}", status_code=303)


@router.get("/connections/{connection_id}", response_class=HTMLResponse, dependencies=[access.Connection.read])
def connection_page(connection_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    connection, project = _readable(session, user, connection_id)
    return render(request, "connections/detail.html", user=user, c=connection, p=project,
                  secrets=service.masked_secrets(connection), can_write=_can_write(user),
                  recent=_ingest_jobs(session, connection))


@router.post("/connections/{connection_id}/_test", response_class=HTMLResponse, dependencies=[access.Connection.read])
def test_fragment(connection_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                  user: PageUser) -> HTMLResponse:
    _readable(session, user, connection_id)
    try:
        message, ok = service.test_connection(session, runtime=runtime, connection_id=connection_id), True
    except InvalidInput as exc:
        message, ok = exc.detail, False
    return render(request, "connections/_test.html", user=user, ok=ok, message=message)


@router.get("/connections/{connection_id}/_preview", response_class=HTMLResponse, dependencies=[access.Connection.read])
def preview_fragment(connection_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                     user: PageUser) -> HTMLResponse:
    _readable(session, user, connection_id)
    try:
        frame = service.preview_connection(session, runtime=runtime, connection_id=connection_id,
                                           limit=PREVIEW_ROWS)
    except InvalidInput as exc:
        return render(request, "connections/_test.html", user=user, ok=False, message=exc.detail)
    rows = [[json_safe(v) for v in row] for row in frame.iter_rows()]
    return render(request, "connections/_preview.html", user=user, columns=frame.columns,
                  dtypes=[str(t) for t in frame.dtypes], rows=rows)


@router.post("/connections/{connection_id}/_ingest", response_class=HTMLResponse,
        dependencies=[access.Connection.write])
def ingest_fragment(connection_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                    dataset_name: Annotated[str, Form()] = "") -> HTMLResponse:
    connection, _ = _readable(session, user, connection_id)
    try:
        projects_service.check_project_access(session, project_id=connection.project_id, user=user, write=True)
        job = service.ingest_connection(session, runtime=runtime, connection_id=connection_id,
                                        dataset_name=dataset_name, user_id=user.id)
    except InvalidInput as exc:
        return render(request, "connections/_test.html", user=user, ok=False, message=exc.detail,
                      status_code=exc.status)
    return _job_fragment(request, session, user, connection, job.id)


@router.get("/connections/{connection_id}/_job/{job_id}", response_class=HTMLResponse,
        dependencies=[access.Connection.read, access.Job.read])
def job_fragment(connection_id: int, job_id: int, request: Request, session: DbSession,
                 user: PageUser) -> HTMLResponse:
    connection, _ = _readable(session, user, connection_id)
    return _job_fragment(request, session, user, connection, job_id)


def _job_fragment(request: Request, session: DbSession, user: User, connection: Connection,
                  job_id: int) -> HTMLResponse:
    job = jobs.get_job(session, job_id=job_id)
    if job.kind != service.INGEST_JOB or job.params.get("connection_id") != connection.id:
        raise InvalidInput(f"Job {job_id} is not an ingest of connection {connection.name!r}.")
    return render(request, "connections/_job.html", user=user, c=connection, job=job,
                  finished=job.state in ("succeeded", "failed"))
