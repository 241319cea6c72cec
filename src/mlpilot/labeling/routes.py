"""REST routes of the labeling domain: projects, members, the annotator's loop, review, agreement and exports.

Reading a labeling project needs membership of its mlpilot project; labeling needs the annotator role and
reviewing the reviewer role in the labeling project (checked by the services); managing needs project write.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.labeling import exports, review, service, work
from mlpilot.labeling.schemas import (
    AgreementRead,
    DisagreementRead,
    ItemRead,
    LabelingCreate,
    LabelingRead,
    MemberAdd,
    MemberRead,
    ProgressRead,
    ReviewIn,
    ReviewItemRead,
    SubmitIn,
    ToDatasetIn,
    ToDatasetRead,
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


# --- review, quality and exports ---------------------------------------------------------------------------------


@router.get("/labeling/{labeling_id}/review", response_model=list[ReviewItemRead],
            dependencies=[access.Labeling.read])
def review_queue(labeling_id: int, session: DbSession, user: CurrentUser, reviewed: bool = False,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[ReviewItemRead]:
    return review.review_queue(session, labeling_id=labeling_id, user=user, reviewed=reviewed, limit=limit)


@router.post("/labeling-assignments/{assignment_id}/review", response_model=ReviewItemRead,
             dependencies=[access.LabelingAssignment.read])
def review_label(assignment_id: int, body: ReviewIn, session: DbSession, user: CurrentUser) -> ReviewItemRead:
    return review.review(session, assignment_id=assignment_id, user=user, body=body)


@router.get("/labeling/{labeling_id}/agreement", response_model=AgreementRead, dependencies=[access.Labeling.read])
def agreement(labeling_id: int, session: DbSession) -> AgreementRead:
    return review.project_agreement(session, labeling_id=labeling_id)


@router.get("/labeling/{labeling_id}/disagreements", response_model=list[DisagreementRead],
            dependencies=[access.Labeling.read])
def disagreements(labeling_id: int, session: DbSession,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[DisagreementRead]:
    return review.disagreements(session, labeling_id=labeling_id, limit=limit)


@router.get("/labeling/{labeling_id}/export", dependencies=[access.Labeling.read],
            responses={200: {"content": {media: {} for media in exports.FORMATS.values()}}})
def export(labeling_id: int, runtime: RuntimeDep,
           format: Annotated[Literal["csv", "jsonl", "labelstudio"], Query()] = "csv") -> StreamingResponse:
    name = f"labels-{labeling_id}.{'json' if format == 'labelstudio' else format}"
    return StreamingResponse(exports.stream_export(runtime.sessions, labeling_id=labeling_id, fmt=format),
                             media_type=exports.FORMATS[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/labeling/{labeling_id}/to-dataset", response_model=ToDatasetRead, status_code=201,
             dependencies=[access.Labeling.write])
def to_dataset(labeling_id: int, body: ToDatasetIn, session: DbSession, runtime: RuntimeDep,
               user: CurrentUser) -> ToDatasetRead:
    return exports.to_dataset_version(session, runtime=runtime, labeling_id=labeling_id, user=user, body=body)
