"""REST routes of the registry domain: model versions and registering a run."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess
from mlpilot.registry import service
from mlpilot.registry.models import ModelVersion
from mlpilot.registry.schemas import (
    ExportResult,
    ModelVersionDetail,
    ModelVersionRead,
    RegisterRequest,
    RegistrationPolicyBody,
    RegistrationPolicyRead,
    StageChange,
    StageTransitionRead,
)
from mlpilot.training import service as training_service
from mlpilot.web import access

router = APIRouter(tags=["registry"])


def _read(model_version: ModelVersion, cls: type[ModelVersionRead] = ModelVersionRead) -> ModelVersionRead:
    item = cls.model_validate(model_version)
    item.input_count = len(model_version.signature.get("inputs", []))
    return item


def _detail(session: DbSession, model_version: ModelVersion) -> ModelVersionDetail:
    item = _read(model_version, ModelVersionDetail)
    assert isinstance(item, ModelVersionDetail)
    item.lineage = service.get_model_lineage(session, model_version=model_version)
    item.transitions = [StageTransitionRead.model_validate(t)
                        for t in service.list_stage_transitions(session, model_version_id=model_version.id)]
    return item


@router.get("/projects/{project_id}/model-versions", response_model=list[ModelVersionRead])
def list_model_versions(project: ProjectAccess, session: DbSession) -> list[ModelVersionRead]:
    return [_read(m) for m in service.list_model_versions(session, project_id=project.id)]


@router.get("/projects/{project_id}/model-registration", response_model=RegistrationPolicyRead)
def get_registration(project: ProjectAccess, session: DbSession) -> RegistrationPolicyRead:
    """Which successful runs register on their own (the best run only, unless chosen otherwise)."""
    policy = service.get_registration_policy(session, project_id=project.id)
    return RegistrationPolicyRead(project_id=project.id, mode=policy.mode, model_name=policy.model_name)


@router.put("/projects/{project_id}/model-registration", response_model=RegistrationPolicyRead,
            dependencies=[access.Project.write])
def set_registration(project_id: int, body: RegistrationPolicyBody, session: DbSession,
                     user: CurrentUser) -> RegistrationPolicyRead:
    policy = service.set_registration_policy(session, project_id=project_id, user=user, mode=body.mode,
                                             model_name=body.model_name)
    return RegistrationPolicyRead(project_id=project_id, mode=policy.mode, model_name=policy.model_name)


@router.get("/model-versions/{model_version_id}", response_model=ModelVersionDetail,
        dependencies=[access.ModelVersion.read])
def get_model_version(model_version_id: int, session: DbSession, user: CurrentUser) -> ModelVersionRead:
    model_version = service.get_model_version(session, model_version_id=model_version_id)
    projects_service.check_project_access(session, project_id=model_version.project_id, user=user)
    return _detail(session, model_version)


@router.post("/runs/{run_id}/register", response_model=ModelVersionDetail, status_code=201,
        dependencies=[access.Run.write])
def register_run(run_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
                 body: RegisterRequest | None = None) -> ModelVersionRead:
    run = training_service.get_run(session, run_id=run_id)
    projects_service.check_project_access(session, project_id=run.project_id, user=user, write=True)
    model_version = training_service.register_run(session, run_id=run_id, user_id=user.id,
                                                  name=body.name if body else None, store=runtime.store)
    return _read(model_version, ModelVersionDetail)


@router.post("/model-versions/{model_version_id}/stage", response_model=ModelVersionDetail,
        dependencies=[access.ModelVersion.write])
def set_stage(model_version_id: int, body: StageChange, session: DbSession, user: CurrentUser) -> ModelVersionRead:
    """Move a model version to staging, production or archived (audited; production archives the previous one)."""
    model_version = service.set_model_stage(session, model_version_id=model_version_id, stage=body.stage, user=user,
                                            reason=body.reason)
    return _detail(session, model_version)


@router.post("/projects/{project_id}/model-versions/import", response_model=ModelVersionDetail, status_code=201,
        dependencies=[access.Project.write])
async def import_model_version(
    project_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
    file: Annotated[UploadFile, File(description="ONNX, LightGBM (.txt), XGBoost (.json/.ubj) or a "
                                                 "scikit-learn joblib/pickle (admins only, trusted files only).")],
    flavor: Annotated[str, Form(description="onnx, lightgbm, xgboost or sklearn.")],
    name: Annotated[str, Form(description="Model name; the import becomes its next version.")],
    signature: Annotated[str | None, Form(description="Declared signature as JSON: {\"inputs\": [{\"name\": "
                                                      "..., \"dtype\": ...}], \"task\": ..., \"classes\": [...]}.")
                         ] = None,
    target: Annotated[str, Form(description="Name of the predicted column.")] = "target",
) -> ModelVersionRead:
    """Import a model trained elsewhere; the signature comes from the model, refined by a declared one."""
    declared = None
    if signature:
        try:
            declared = json.loads(signature)
        except ValueError as exc:
            raise InvalidInput(f"The declared signature is not valid JSON: {exc}.") from None
        if not isinstance(declared, dict):
            raise InvalidInput("The declared signature must be a JSON object.")
    filename = Path(file.filename or "model").name
    with tempfile.TemporaryDirectory(prefix="mlpilot-upload-") as tmp:
        path = Path(tmp) / filename
        with path.open("wb") as out:
            while chunk := await file.read(1 << 20):
                out.write(chunk)
        from starlette.concurrency import run_in_threadpool

        model_version = await run_in_threadpool(
            service.import_model_version, session, runtime=runtime, project_id=project_id, user=user,
            file_path=path, filename=filename, flavor=flavor, name=name, signature=declared, target=target)
    return _detail(session, model_version)


@router.post("/model-versions/{model_version_id}/export/onnx", response_model=ExportResult, status_code=201,
        dependencies=[access.ModelVersion.write])
def export_onnx(model_version_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser) -> ExportResult:
    """Convert to ONNX with a parity check; the ONNX model becomes the name's next version."""
    exported, parity = service.export_model_version_onnx(session, runtime=runtime, model_version_id=model_version_id,
                                                         user=user)
    return ExportResult(model_version=_detail(session, exported), parity=parity)


@router.get("/model-versions/{model_version_id}/files/{filename}", dependencies=[access.ModelVersion.read])
def download_file(model_version_id: int, filename: str, session: DbSession, runtime: RuntimeDep,
                  user: CurrentUser) -> FileResponse:
    """Download one file of a model version (e.g. model.onnx)."""
    model_version = service.get_model_version(session, model_version_id=model_version_id)
    projects_service.check_project_access(session, project_id=model_version.project_id, user=user)
    path = service.model_file(store=runtime.store, model_version=model_version, filename=filename)
    return FileResponse(path, filename=filename, media_type="application/octet-stream")
