"""REST routes of the labeling domain: projects, members, the annotator's loop, review, agreement and exports.

Reading a labeling project needs membership of its mlpilot project; labeling needs the annotator role and
reviewing the reviewer role in the labeling project (checked by the services); managing needs project write.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.labeling import service, work
from mlpilot.labeling.schemas import (
    ItemRead,
    LabelingCreate,
    LabelingRead,
    MemberAdd,
    MemberRead,
    ProgressRead,
    SubmitIn,
)
from mlpilot.projects.deps import ProjectAccess, ProjectWriteAccess
from mlpilot.web import access

router = APIRouter(tags=["labeling"])


@router.get("/projects/{project_id}/labeling", response_model=list[LabelingRead])
def list_labelings(project: ProjectAccess, session: DbSession) -> list[LabelingRead]:
    return [LabelingRead.model_validate(x) for x in service.list_labelings(session, project_id=project.id)]


@router.post("/projects/{project_id}/labeling", response_model=LabelingRead, status_code=201)
def create_labeling(project: ProjectWriteAccess, body: LabelingCreate, session: DbSession, runtime: RuntimeDep,
                    user: CurrentUser) -> LabelingRead:
    labeling = service.create_labeling(session, store=runtime.store, project_id=project.id, user=user, body=body)
    return LabelingRead.model_validate(labeling)


@router.get("/labeling/{labeling_id}", response_model=LabelingRead, dependencies=[access.Labeling.read])
def get_labeling(labeling_id: int, session: DbSession) -> LabelingRead:
    return LabelingRead.model_validate(service.get_labeling(session, labeling_id=labeling_id))


@router.get("/labeling/{labeling_id}/members", response_model=list[MemberRead],
            dependencies=[access.Labeling.read])
def list_members(labeling_id: int, session: DbSession) -> list[MemberRead]:
    return service.list_members(session, labeling_id=labeling_id)


@router.post("/labeling/{labeling_id}/members", response_model=MemberRead, status_code=201,
             dependencies=[access.Labeling.write])
def add_member(labeling_id: int, body: MemberAdd, session: DbSession) -> MemberRead:
    return service.add_member(session, labeling_id=labeling_id, username=body.username, role=body.role)


@router.get("/labeling/{labeling_id}/progress", response_model=ProgressRead, dependencies=[access.Labeling.read])
def progress(labeling_id: int, session: DbSession) -> ProgressRead:
    return service.progress(session, labeling_id=labeling_id)


@router.post("/labeling/{labeling_id}/next", response_model=ItemRead,
             responses={204: {"description": "Nothing left to label for you."}},
             dependencies=[access.Labeling.read])
def next_item(labeling_id: int, session: DbSession, user: CurrentUser) -> ItemRead | Response:
    item = work.next_item(session, labeling_id=labeling_id, user=user)
    return item if item is not None else Response(status_code=204)


@router.get("/labeling/{labeling_id}/mine", response_model=list[ItemRead], dependencies=[access.Labeling.read])
def my_items(labeling_id: int, session: DbSession, user: CurrentUser,
             limit: Annotated[int, Query(ge=1, le=500)] = 50,
             before: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None) -> list[ItemRead]:
    return work.my_items(session, labeling_id=labeling_id, user=user, limit=limit, before=before)


@router.get("/labeling-assignments/{assignment_id}", response_model=ItemRead,
            dependencies=[access.LabelingAssignment.read])
def get_item(assignment_id: int, session: DbSession, user: CurrentUser) -> ItemRead:
    return work.get_item(session, assignment_id=assignment_id, user=user)


@router.post("/labeling-assignments/{assignment_id}/submit", response_model=ItemRead,
             dependencies=[access.LabelingAssignment.read])
def submit(assignment_id: int, body: SubmitIn, session: DbSession, user: CurrentUser) -> ItemRead:
    return work.submit(session, assignment_id=assignment_id, user=user, body=body)


@router.post("/labeling-assignments/{assignment_id}/skip", response_model=ItemRead,
             dependencies=[access.LabelingAssignment.read])
def skip(assignment_id: int, session: DbSession, user: CurrentUser) -> ItemRead:
    return work.skip(session, assignment_id=assignment_id, user=user)
