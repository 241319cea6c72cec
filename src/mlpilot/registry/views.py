"""Web pages of the registry domain: the project's models section (stages, import, export) and a model page."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput, MlpilotError, require_reason
from mlpilot.projects import service as projects_service
from mlpilot.registry import service
from mlpilot.registry.models import ModelStage, ModelVersion
from mlpilot.web import access
from mlpilot.web.pages import PageUser, page_gettext, render

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
                  stages=service.STAGES, policy=service.get_registration_policy(session, project_id=project_id),
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member],
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
            stage = form.get("stage", "")
            reason = require_reason(form.get("reason")) if stage == ModelStage.archived \
                else (form.get("reason") or "").strip()[:500]
            mv = service.set_model_stage(session, model_version_id=model_version_id, stage=stage, user=user,
                                         reason=reason)
        except MlpilotError as exc:
            session.rollback()
            return _section(request, session, user, project_id, error=exc.localized(page_gettext(request, user)))
        return _section(request, session, user, project_id, message=f"{mv.name} v{mv.version}: {mv.stage}")

    return await run_in_threadpool(act)


@router.post("/projects/{project_id}/_section/models/registration", response_class=HTMLResponse,
             dependencies=[access.Project.write])
async def registration_form(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    """Choose which successful runs register on their own (best only, every run, none) and their model name."""
    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> HTMLResponse:
        gettext = page_gettext(request, user)
        try:
            service.set_registration_policy(session, project_id=project_id, user=user, mode=form.get("mode", ""),
                                            model_name=form.get("model_name", ""))
        except MlpilotError as exc:
            session.rollback()
            return _section(request, session, user, project_id, error=exc.localized(gettext), form=form)
        return _section(request, session, user, project_id, message=gettext("Registration choice saved"))

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


def _model_page(request: Request, session: DbSession, user: User, model_version_id: int, *,
                error: str | None = None, form: dict[str, str] | None = None) -> HTMLResponse:
    from mlpilot.serving import service as serving_service

    mv: ModelVersion = service.get_model_version(session, model_version_id=model_version_id)
    project = projects_service.check_project_access(session, project_id=mv.project_id, user=user)
    transitions = service.list_stage_transitions(session, model_version_id=mv.id)
    users = {t.user_id: accounts_service.get_user(session, user_id=t.user_id).username
             for t in transitions if t.user_id is not None}
    services = [s for s in serving_service.list_services(session, project_id=mv.project_id)
                if s.model_version_id == mv.id]
    return render(request, "registry/detail.html", user=user, mv=mv, project=project,
                  lineage=service.get_model_lineage(session, model_version=mv), transitions=transitions, users=users,
                  services=services, can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member],
                  stages=service.STAGES, error=error, form=form or {}, status_code=422 if error else 200)


@router.get("/model-versions/{model_version_id}", response_class=HTMLResponse, dependencies=[access.ModelVersion.read])
def model_page(model_version_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _model_page(request, session, user, model_version_id)


@router.post("/model-versions/{model_version_id}/stage", response_class=HTMLResponse,
             dependencies=[access.ModelVersion.write])
async def model_stage_form(model_version_id: int, request: Request, session: DbSession, user: PageUser) -> Response:
    """Promote, stage, archive (confirmed with a reason) or restore a model version from its page."""
    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> Response:
        stage = form.get("stage", "")
        try:
            reason = require_reason(form.get("reason")) if stage == ModelStage.archived \
                else (form.get("reason") or "").strip()[:500]
            service.set_model_stage(session, model_version_id=model_version_id, stage=stage, user=user,
                                    reason=reason)
        except MlpilotError as exc:
            session.rollback()
            return _model_page(request, session, user, model_version_id, form=form,
                               error=exc.localized(page_gettext(request, user)))
        return RedirectResponse(f"/model-versions/{model_version_id}", status_code=303)

    return await run_in_threadpool(act)


@router.post("/model-versions/{model_version_id}/deploy", response_class=HTMLResponse,
             dependencies=[access.ModelVersion.write])
async def model_deploy_form(model_version_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                            user: PageUser) -> Response:
    """Serve this model version under a service name (a new service, or the new primary of an existing one)."""
    from mlpilot.serving import service as serving_service

    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> Response:
        try:
            mv = service.get_model_version(session, model_version_id=model_version_id)
            svc = serving_service.deploy_model_version(session, runtime=runtime, project_id=mv.project_id, user=user,
                                                       name=form.get("name", "")[:200], model_version_id=mv.id,
                                                       reason=(form.get("reason") or "").strip()[:500])
        except MlpilotError as exc:
            session.rollback()
            return _model_page(request, session, user, model_version_id, form={**form, "action": "deploy"},
                               error=exc.localized(page_gettext(request, user)))
        return RedirectResponse(f"/services/{svc.name}", status_code=303)

    return await run_in_threadpool(act)
