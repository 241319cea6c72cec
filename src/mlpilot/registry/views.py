"""Web pages of the registry domain: the project's models section (stages, import, export) and a model page."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput, MlpilotError
from mlpilot.projects import service as projects_service
from mlpilot.registry import service
from mlpilot.registry.models import ModelVersion
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


def _rows(session: DbSession, project_id: int) -> list[dict[str, Any]]:
    rows = []
    for mv in service.list_model_versions(session, project_id=project_id):
        metric = next((m for m in ("roc_auc", "log_loss", "rmse") if mv.metrics.get(m) is not None), None)
        rows.append({"mv": mv, "metric": metric, "value": mv.metrics.get(metric) if metric else None,
                     "inputs": len(mv.signature.get("inputs", [])), "task": mv.signature.get("task")})
    return rows


def _section(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
             message: str | None = None, form: dict[str, str] | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    return render(request, "registry/_section.html", user=user, p=project, rows=_rows(session, project_id),
                  stages=service.STAGES, can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member],
                  is_admin=user.role == Role.admin, error=error, message=message, form=form or {})


@router.get("/projects/{project_id}/_section/models", response_class=HTMLResponse, dependencies=[access.Project.read])
def models_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


@router.post("/projects/{project_id}/_section/models/{model_version_id}/stage", response_class=HTMLResponse,
        dependencies=[access.Project.write, access.ModelVersion.write])
async def stage_form(project_id: int, model_version_id: int, request: Request, session: DbSession,
                     user: PageUser) -> HTMLResponse:
    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> HTMLResponse:
        try:
            mv = service.set_model_stage(session, model_version_id=model_version_id, stage=form.get("stage", ""),
                                         user=user, reason=form.get("reason", ""))
        except MlpilotError as exc:
            session.rollback()
            return _section(request, session, user, project_id, error=exc.detail)
        return _section(request, session, user, project_id, message=f"{mv.name} v{mv.version}: {mv.stage}")

    return await run_in_threadpool(act)


@router.post("/projects/{project_id}/_section/models/{model_version_id}/export", response_class=HTMLResponse,
        dependencies=[access.Project.write, access.ModelVersion.write])
async def export_form(project_id: int, model_version_id: int, request: Request, session: DbSession,
                      runtime: RuntimeDep, user: PageUser) -> HTMLResponse:
    def act() -> HTMLResponse:
        try:
            mv, parity = service.export_model_version_onnx(session, runtime=runtime,
                                                           model_version_id=model_version_id, user=user)
        except MlpilotError as exc:
            session.rollback()
            return _section(request, session, user, project_id, error=exc.detail)
        return _section(request, session, user, project_id,
                        message=f"ONNX → {mv.name} v{mv.version} (max |Δ| {parity['max_abs_diff']:.1e})")

    return await run_in_threadpool(act)


@router.post("/projects/{project_id}/_section/models/import", response_class=HTMLResponse,
        dependencies=[access.Project.write])
async def import_form(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                      user: PageUser) -> HTMLResponse:
    data = await request.form()
    form = {k: str(v) for k, v in data.items() if not isinstance(v, UploadFile)}
    upload = data.get("file")
    with tempfile.TemporaryDirectory(prefix="mlpilot-upload-") as tmp:
        path = None
        if isinstance(upload, UploadFile) and upload.filename:
            path = Path(tmp) / Path(upload.filename).name
            path.write_bytes(await upload.read())

        def act() -> HTMLResponse:
            try:
                if path is None:
                    raise InvalidInput("Choose a model file to import.")
                declared = None
                if form.get("signature", "").strip():
                    try:
                        declared = json.loads(form["signature"])
                    except ValueError as exc:
                        raise InvalidInput(f"The declared signature is not valid JSON: {exc}.") from None
                mv = service.import_model_version(session, runtime=runtime, project_id=project_id, user=user,
                                                  file_path=path, filename=path.name, flavor=form.get("flavor", ""),
                                                  name=form.get("name", ""), signature=declared)
            except MlpilotError as exc:
                session.rollback()
                return _section(request, session, user, project_id, error=exc.detail, form=form)
            return _section(request, session, user, project_id, message=f"{mv.name} v{mv.version} ({mv.flavor})")

        return await run_in_threadpool(act)


@router.get("/model-versions/{model_version_id}", response_class=HTMLResponse, dependencies=[access.ModelVersion.read])
def model_page(model_version_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    mv: ModelVersion = service.get_model_version(session, model_version_id=model_version_id)
    project = projects_service.check_project_access(session, project_id=mv.project_id, user=user)
    transitions = service.list_stage_transitions(session, model_version_id=mv.id)
    users = {t.user_id: accounts_service.get_user(session, user_id=t.user_id).username
             for t in transitions if t.user_id is not None}
    return render(request, "registry/detail.html", user=user, mv=mv, project=project,
                  lineage=service.get_model_lineage(session, model_version=mv), transitions=transitions, users=users)
