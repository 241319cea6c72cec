"""REST routes of data connections: create and read them, test, preview and start an ingest job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.accounts.models import User
from mlpilot.connections import service as service
from mlpilot.connections.models import Connection
from mlpilot.connections.schemas import (
    ConnectionCreate,
    ConnectionPreviewRead,
    ConnectionRead,
    ConnectionTestRead,
    IngestRequest,
    IngestStarted,
)
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.datasets.connectors import ConnectorError
from mlpilot.datasets.profiling import json_safe
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess, ProjectWriteAccess
from mlpilot.web import access

router = APIRouter(tags=["connections"])


def connection_read(connection: Connection) -> ConnectionRead:
    """The API view of a connection: settings as stored (no secrets in them) and secrets masked."""
    return ConnectionRead.model_validate(connection).model_copy(
        update={"secrets": service.masked_secrets(connection)})


def _accessible(session: DbSession, user: User, connection_id: int, *, write: bool = False) -> Connection:
    connection = service.get_connection(session, connection_id=connection_id)
    projects_service.check_project_access(session, project_id=connection.project_id, user=user, write=write)
    return connection


def frame_rows(frame: Any) -> list[dict[str, Any]]:
    """Rows of a Polars frame as JSON-safe dicts."""
    return [{k: json_safe(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


@router.get("/connector-kinds", response_model=list[str])
def list_connector_kinds(user: CurrentUser) -> list[str]:
    return service.list_connector_kinds()


@router.post("/projects/{project_id}/connections", response_model=ConnectionRead, status_code=201)
def create_connection(body: ConnectionCreate, project: ProjectWriteAccess, session: DbSession, runtime: RuntimeDep,
                      user: CurrentUser) -> ConnectionRead:
    connection = service.create_connection(session, runtime=runtime, project_id=project.id, name=body.name,
                                           kind=body.kind, settings=body.settings, secrets=body.secrets,
                                           user_id=user.id)
    return connection_read(connection)


@router.get("/projects/{project_id}/connections", response_model=list[ConnectionRead])
def list_connections(project: ProjectAccess, session: DbSession) -> list[ConnectionRead]:
    return [connection_read(c) for c in service.list_connections(session, project_id=project.id)]


@router.get("/connections/{connection_id}", response_model=ConnectionRead, dependencies=[access.Connection.read])
def get_connection(connection_id: int, session: DbSession, user: CurrentUser) -> ConnectionRead:
    return connection_read(_accessible(session, user, connection_id))


@router.delete("/connections/{connection_id}", status_code=204, dependencies=[access.Connection.write])
def delete_connection(connection_id: int, session: DbSession, user: CurrentUser) -> Response:
    _accessible(session, user, connection_id, write=True)
    service.delete_connection(session, connection_id=connection_id)
    return Response(status_code=204)


@router.post("/connections/{connection_id}/test", response_model=ConnectionTestRead,
        dependencies=[access.Connection.read])
def test_connection(connection_id: int, session: DbSession, runtime: RuntimeDep,
                    user: CurrentUser) -> ConnectionTestRead:
    _accessible(session, user, connection_id)
    try:
        message = service.test_connection(session, runtime=runtime, connection_id=connection_id)
    except ConnectorError as exc:
        # A failing source is the test's answer, not a bad request.
        return ConnectionTestRead(ok=False, message=exc.detail)
    return ConnectionTestRead(ok=True, message=message)


@router.get("/connections/{connection_id}/preview", response_model=ConnectionPreviewRead,
        dependencies=[access.Connection.read])
def preview_connection(connection_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
                       limit: int = 20) -> ConnectionPreviewRead:
    _accessible(session, user, connection_id)
    frame = service.preview_connection(session, runtime=runtime, connection_id=connection_id, limit=limit)
    return ConnectionPreviewRead(connection_id=connection_id, columns=frame.columns,
                                 dtypes=[str(t) for t in frame.dtypes], rows=frame_rows(frame))


@router.post("/connections/{connection_id}/ingest", response_model=IngestStarted, status_code=202,
        dependencies=[access.Connection.write])
def ingest_connection(connection_id: int, body: IngestRequest, session: DbSession, runtime: RuntimeDep,
                      user: CurrentUser) -> IngestStarted:
    _accessible(session, user, connection_id, write=True)
    job = service.ingest_connection(session, runtime=runtime, connection_id=connection_id,
                                    dataset_name=body.dataset_name, user_id=user.id, chunk_rows=body.chunk_rows)
    return IngestStarted(job_id=job.id, connection_id=connection_id, dataset_name=body.dataset_name)
