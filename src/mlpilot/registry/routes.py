"""REST routes of the registry domain: model versions and registering a run."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess
from mlpilot.registry import service
from mlpilot.registry.models import ModelVersion
from mlpilot.registry.schemas import ModelVersionDetail, ModelVersionRead, RegisterRequest
from mlpilot.training import service as training_service

router = APIRouter(tags=["registry"])


def _read(model_version: ModelVersion, cls: type[ModelVersionRead] = ModelVersionRead) -> ModelVersionRead:
    item = cls.model_validate(model_version)
    item.input_count = len(model_version.signature.get("inputs", []))
    return item


@router.get("/projects/{project_id}/model-versions", response_model=list[ModelVersionRead])
def list_model_versions(project: ProjectAccess, session: DbSession) -> list[ModelVersionRead]:
    return [_read(m) for m in service.list_model_versions(session, project_id=project.id)]


@router.get("/model-versions/{model_version_id}", response_model=ModelVersionDetail)
def get_model_version(model_version_id: int, session: DbSession, user: CurrentUser) -> ModelVersionRead:
    model_version = service.get_model_version(session, model_version_id=model_version_id)
    projects_service.check_project_access(session, project_id=model_version.project_id, user=user)
    return _read(model_version, ModelVersionDetail)


@router.post("/runs/{run_id}/register", response_model=ModelVersionDetail, status_code=201)
def register_run(run_id: int, session: DbSession, user: CurrentUser,
                 body: RegisterRequest | None = None) -> ModelVersionRead:
    run = training_service.get_run(session, run_id=run_id)
    projects_service.check_project_access(session, project_id=run.project_id, user=user, write=True)
    model_version = service.register_run(session, run_id=run_id, user_id=user.id, name=body.name if body else None)
    return _read(model_version, ModelVersionDetail)
