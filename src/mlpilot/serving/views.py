"""Web pages of the serving domain: all services, one service's page, and the project page's services section."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import MlpilotError
from mlpilot.monitoring import service as monitoring_service
from mlpilot.projects import service as projects_service
from mlpilot.registry import service as registry_service
from mlpilot.registry.signature import Signature
from mlpilot.serving import service
from mlpilot.serving.routes import base_url, endpoints
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


def _can_write(user: User) -> bool:
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]


def example_row(signature: Signature) -> dict[str, Any]:
    """Return one plausible input row for the copy-paste examples."""
    row: dict[str, Any] = {}
    for column in signature.inputs:
        if column.dtype == "string":
            row[column.name] = (column.categories or ("text",))[0]
        elif column.dtype == "bool":
            row[column.name] = True
        elif column.dtype == "int64":
            row[column.name] = 1
        else:
            row[column.name] = 1.0
    return row


def curl_example(url: str, signature: Signature) -> str:
    """Return a curl command calling the OIP endpoint with one example row."""
    row = example_row(signature)
    datatypes = {"float64": "FP64", "int64": "INT64", "bool": "BOOL", "string": "BYTES"}
    tensors = [json.dumps({"name": c.name, "shape": [1], "datatype": datatypes[c.dtype], "data": [row[c.name]]},
                          ensure_ascii=False) for c in signature.inputs]
    # One input per line reads better than fully indented JSON and still pastes as valid JSON.
    payload = ('{"inputs": [\n    ' + ",\n    ".join(tensors) + "\n  ]}").replace("'", "'\\''")
    return (f"curl -s -X POST {url} \\\n  -H \"Authorization: Bearer $MLPILOT_TOKEN\" \\\n"
            f"  -H 'Content-Type: application/json' \\\n  -d '{payload}'")


def _labels(session: DbSession, services: list[Any]) -> dict[int, str]:
    labels = {}
    for svc in services:
        model_version = registry_service.get_model_version(session, model_version_id=svc.model_version_id)
        labels[svc.id] = service.display_label(model_version)
    return labels


@router.get("/services", response_class=HTMLResponse)
def services_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    services = service.list_user_services(session, user=user)
    projects = {p.id: p for p in projects_service.list_projects(session, user=user)}
    return render(request, "serving/list.html", user=user, services=services, projects=projects,
                  labels=_labels(session, services), stats=service.summarize_services(session, services=services))


@router.get("/services/{name}", response_class=HTMLResponse)
def service_page(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                 user: PageUser, window: str = "1h") -> HTMLResponse:
    svc = service.check_service_access(session, name=name, user=user)
    model_version = registry_service.get_model_version(session, model_version_id=svc.model_version_id)
    signature = Signature.from_dict(model_version.signature)
    urls = endpoints(base_url(request, runtime), svc.name)
    deployments = service.list_deployments(session, service_id=svc.id)
    version_ids = {d.model_version_id for d in deployments} | {d.previous_model_version_id for d in deployments}
    versions = {vid: service.display_label(registry_service.get_model_version(session, model_version_id=vid))
                for vid in version_ids if vid is not None}
    served = runtime.dataplane.get(svc.name) if runtime.dataplane is not None else None
    return render(request, "serving/detail.html", user=user, svc=svc, model_version=model_version,
                  label=service.display_label(model_version), signature=signature, urls=urls,
                  curl=curl_example(urls.oip_infer, signature), deployments=deployments, versions=versions,
                  project=projects_service.get_project(session, project_id=svc.project_id),
                  loaded=served is not None, can_write=_can_write(user),
                  window=window if window in monitoring_service.WINDOWS else "1h")


@router.post("/services/{name}/stop")
def stop_service_form(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                      user: PageUser) -> Response:
    service.stop_service(session, runtime=runtime, name=name, user=user, reason="stopped from the service page")
    return RedirectResponse(f"/services/{name}", status_code=303)


def _section(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
             form: dict[str, str] | None = None, message: str | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    services = service.list_services(session, project_id=project_id)
    model_versions = registry_service.list_model_versions(session, project_id=project_id)
    return render(request, "serving/_section.html", user=user, p=project, services=services,
                  labels=_labels(session, services), stats=service.summarize_services(session, services=services),
                  model_versions=model_versions, can_write=_can_write(user), error=error, form=form or {},
                  message=message)


@router.get("/projects/{project_id}/_section/services", response_class=HTMLResponse)
def services_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


@router.post("/projects/{project_id}/_section/services", response_class=HTMLResponse)
async def deploy_from_section(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                              user: PageUser) -> HTMLResponse:
    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> HTMLResponse:
        try:
            version_id = int(form.get("model_version_id") or 0)
        except ValueError:
            version_id = 0
        try:
            svc = service.deploy_model_version(session, runtime=runtime, project_id=project_id, user=user,
                                               name=form.get("name", ""), model_version_id=version_id,
                                               reason=form.get("reason", ""))
        except MlpilotError as exc:
            # The fragment is swapped in place, so the error is shown next to the form (status 200 for HTMX).
            return _section(request, session, user, project_id, error=exc.detail, form=form)
        return _section(request, session, user, project_id, message=svc.name)

    return await run_in_threadpool(act)
