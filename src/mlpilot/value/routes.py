"""REST routes of the value domain: a project's value tree, its costs, and the computed value summary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.projects.deps import ProjectAccess
from mlpilot.value import service
from mlpilot.value.schemas import MAX_ID, CostCreate, CostRead, NodeCreate, NodeRead, NodeUpdate, ValueSummary
from mlpilot.web import access

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
router = APIRouter(prefix="/projects/{project_id}/value", tags=["value"])


@router.get("/nodes", response_model=list[NodeRead])
def list_nodes(project: ProjectAccess, session: DbSession) -> list[NodeRead]:
    return [NodeRead.model_validate(n) for n in service.list_nodes(session, project_id=project.id)]


@router.post("/nodes", response_model=NodeRead, status_code=201, dependencies=[access.Project.write])
def create_node(project_id: int, body: NodeCreate, session: DbSession, user: CurrentUser,
                runtime: RuntimeDep) -> NodeRead:
    node = service.create_node(session, project_id=project_id, user=user, data=body, runtime=runtime)
    return NodeRead.model_validate(node)


@router.patch("/nodes/{node_id}", response_model=NodeRead, dependencies=[access.Project.write])
def update_node(project_id: int, node_id: Id, body: NodeUpdate, session: DbSession, user: CurrentUser) -> NodeRead:
    return NodeRead.model_validate(service.update_node(session, project_id=project_id, node_id=node_id, user=user,
                                                       data=body))


@router.delete("/nodes/{node_id}", status_code=204, dependencies=[access.Project.write])
def delete_node(project_id: int, node_id: Id, session: DbSession, user: CurrentUser) -> Response:
    service.delete_node(session, project_id=project_id, node_id=node_id, user=user)
    return Response(status_code=204)


@router.get("/costs", response_model=list[CostRead])
def list_costs(project: ProjectAccess, session: DbSession) -> list[CostRead]:
    return [CostRead.model_validate(c) for c in service.list_costs(session, project_id=project.id)]


@router.post("/costs", response_model=CostRead, status_code=201, dependencies=[access.Project.write])
def create_cost(project_id: int, body: CostCreate, session: DbSession, user: CurrentUser) -> CostRead:
    return CostRead.model_validate(service.create_cost(session, project_id=project_id, user=user, data=body))


@router.delete("/costs/{cost_id}", status_code=204, dependencies=[access.Project.write])
def delete_cost(project_id: int, cost_id: Id, session: DbSession, user: CurrentUser) -> Response:
    service.delete_cost(session, project_id=project_id, cost_id=cost_id, user=user)
    return Response(status_code=204)


@router.get("", response_model=ValueSummary)
def value_summary(project: ProjectAccess, session: DbSession, runtime: RuntimeDep,
                  months: Annotated[int, Query(ge=1, le=service.MAX_MONTHS)] = 12,
                  days: Annotated[int, Query(ge=1, le=service.MAX_DAYS)] = 31) -> ValueSummary:
    return service.value_summary(session, project.id, runtime=runtime, months=months, days=days)
