"""REST routes of the datasets domain: upload, list, versions, lineage, diffs, profiles and previews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from mlpilot.accounts.deps import CurrentUser
from mlpilot.accounts.models import User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.limits import read_capped
from mlpilot.datasets import quality_routes, service
from mlpilot.datasets.models import Dataset, DatasetVersion
from mlpilot.datasets.schemas import (
    DatasetDetail,
    DatasetRead,
    DatasetVersionRead,
    DiffRead,
    LineageRead,
    PreviewRead,
    ProfileRead,
    UploadResult,
)
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess, ProjectWriteAccess
from mlpilot.web import access

router = APIRouter(tags=["datasets"])
router.include_router(quality_routes.router)


def _dataset_read(dataset: Dataset) -> DatasetRead:
    latest = dataset.versions[-1].version if dataset.versions else None
    return DatasetRead.model_validate(dataset).model_copy(update={"latest_version": latest})


def _readable_version(session: DbSession, user: User, version_id: int) -> DatasetVersion:
    version = service.get_dataset_version(session, version_id=version_id)
    projects_service.check_project_access(session, project_id=version.dataset.project_id, user=user)
    return version


@router.post("/projects/{project_id}/datasets", response_model=UploadResult, status_code=201)
def upload_dataset(project: ProjectWriteAccess, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
                         name: Annotated[str, Form()], file: Annotated[UploadFile, File()],
                         description: Annotated[str, Form()] = "") -> UploadResult:
    data = read_capped(file.file, limit=runtime.settings.limits.upload_bytes, what=repr(file.filename))
    version, job_id = service.create_dataset_version(
        session, runtime=runtime, project_id=project.id, name=name, filename=file.filename or "",
        data=data, user_id=user.id, description=description,
    )
    dataset = service.get_dataset(session, dataset_id=version.dataset_id)
    return UploadResult(dataset=_dataset_read(dataset), version=DatasetVersionRead.model_validate(version),
                        profile_job_id=job_id)


@router.get("/projects/{project_id}/datasets", response_model=list[DatasetRead])
def list_datasets(project: ProjectAccess, session: DbSession) -> list[DatasetRead]:
    return [_dataset_read(d) for d in service.list_datasets(session, project_id=project.id)]


@router.get("/datasets/{dataset_id}", response_model=DatasetDetail, dependencies=[access.Dataset.read])
def get_dataset(dataset_id: int, session: DbSession, user: CurrentUser) -> DatasetDetail:
    dataset = service.get_dataset(session, dataset_id=dataset_id)
    projects_service.check_project_access(session, project_id=dataset.project_id, user=user)
    return DatasetDetail(**_dataset_read(dataset).model_dump(),
                         versions=[DatasetVersionRead.model_validate(v) for v in dataset.versions])


@router.get("/dataset-versions/{version_id}", response_model=DatasetVersionRead,
        dependencies=[access.DatasetVersion.read])
def get_dataset_version(version_id: int, session: DbSession, user: CurrentUser) -> DatasetVersionRead:
    return DatasetVersionRead.model_validate(_readable_version(session, user, version_id))


@router.get("/dataset-versions/{version_id}/profile", response_model=ProfileRead,
        dependencies=[access.DatasetVersion.read])
def get_dataset_profile(version_id: int, session: DbSession, user: CurrentUser) -> ProfileRead:
    _readable_version(session, user, version_id)
    return ProfileRead.model_validate(service.get_dataset_profile(session, version_id=version_id))


@router.get("/dataset-versions/{version_id}/preview", response_model=PreviewRead,
        dependencies=[access.DatasetVersion.read])
def preview_dataset_version(version_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
                            limit: int = 20) -> PreviewRead:
    _readable_version(session, user, version_id)
    columns, rows = service.preview_dataset_version(session, store=runtime.store, version_id=version_id, limit=limit)
    return PreviewRead(version_id=version_id, columns=columns, rows=rows)


@router.get("/dataset-versions/{version_id}/lineage", response_model=LineageRead,
        dependencies=[access.DatasetVersion.read])
def get_dataset_version_lineage(version_id: int, session: DbSession, user: CurrentUser) -> LineageRead:
    _readable_version(session, user, version_id)
    return service.get_dataset_version_lineage(session, version_id=version_id)


@router.get("/dataset-versions/{version_id}/diff/{other_id}", response_model=DiffRead,
        dependencies=[access.DatasetVersion.read, access.OtherDatasetVersion.read])
def diff_dataset_versions(version_id: int, other_id: int, session: DbSession, runtime: RuntimeDep,
                          user: CurrentUser) -> DiffRead:
    _readable_version(session, user, version_id)
    _readable_version(session, user, other_id)
    return DiffRead.model_validate(service.diff_dataset_versions(session, store=runtime.store,
                                                                 version_a_id=version_id, version_b_id=other_id))
