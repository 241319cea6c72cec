"""Web pages of the serving domain: all services, one service's page, and the project page's services section."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.db import utcnow
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import N_, InvalidInput, MlpilotError, require_reason
from mlpilot.monitoring import alerts
from mlpilot.monitoring import service as monitoring_service
from mlpilot.monitoring.metrics import Totals
from mlpilot.projects import service as projects_service
from mlpilot.registry import service as registry_service
from mlpilot.registry.signature import Signature
from mlpilot.serving import service, traffic
from mlpilot.serving.addresses import base_url, endpoints
from mlpilot.serving.models import Service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, page_gettext, render

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
    return {svc.id: service.primary_label(session, service=svc) for svc in services}


@router.get("/services", response_class=HTMLResponse)
def services_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    services = service.list_user_services(session, user=user)
    projects = {p.id: p for p in projects_service.list_projects(session, user=user)}
    return render(request, "serving/list.html", user=user, services=services, projects=projects,
                  labels=_labels(session, services), stats=_traffic(session, services))


def _service_page(request: Request, session: DbSession, runtime: RuntimeDep, user: User, name: str, *,
                  window: str = "1h", error: str | None = None, form: dict[str, str] | None = None) -> HTMLResponse:
    svc = service.check_service_access(session, name=name, user=user)
    signature = service.get_service_signature(session, service=svc)
    urls = endpoints(base_url(request, runtime), svc.name)
    backends = traffic.list_backends(session, service_id=svc.id)
    roles = {b.id: traffic.backend_role(svc, b) for b in backends}
    attached = {b.model_version_id for b in backends}
    attachable = [mv for mv in registry_service.list_model_versions(session, project_id=svc.project_id)
                  if mv.id not in attached and mv.stage != "archived"]
    audit = service.list_deployments(session, service_id=svc.id)
    users = {d.user_id: accounts_service.get_user(session, user_id=d.user_id).username
             for d in audit if d.user_id is not None}
    live = traffic.live_status(runtime, svc.name)
    return render(request, "serving/detail.html", user=user, svc=svc, label=service.primary_label(session, service=svc),
                  signature=signature, urls=urls, curl=curl_example(urls.oip_infer, signature), audit=audit,
                  users=users, backends=backends, roles=roles, attachable=attachable, live=live,
                  project=projects_service.get_project(session, project_id=svc.project_id),
                  loaded=bool(live.backends), can_write=_can_write(user), error=error, form=form or {},
                  window=window if window in monitoring_service.WINDOWS else "1h",
                  cost=alerts.get_unit_cost(session, service=svc.name),
                  status_code=422 if error else 200)


@router.get("/services/{name}", response_class=HTMLResponse, dependencies=[access.Service.read])
def service_page(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                 user: PageUser, window: str = "1h") -> HTMLResponse:
    return _service_page(request, session, runtime, user, name, window=window)


def _number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _external_form(form: dict[str, str]) -> dict[str, Any]:
    try:
        template = json.loads(form.get("request") or '{"records": "$records"}')
    except ValueError as exc:
        raise InvalidInput(f"The request template is not valid JSON: {exc}.") from None
    return {"name": form.get("ext_name", ""), "url": form.get("url", ""), "request": template,
            "response_path": form.get("response_path") or "predictions",
            "response_field": form.get("response_field") or None,
            "timeout_s": _number(form.get("timeout_s")) or 5.0}


@router.post("/services/{name}/_traffic", response_class=HTMLResponse, dependencies=[access.Service.write])
async def traffic_form(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                       user: PageUser) -> Response:
    """Attach a backend or change traffic from the service page; errors are shown on the page."""
    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> Response:
        action = form.get("action", "")
        reason = form.get("reason", "")
        backend_id = int(_number(form.get("backend_id")) or 0) or None
        try:
            svc = service.check_service_access(session, name=name, user=user, write=True)
            if action == "attach_model":
                traffic.attach_backend(session, runtime=runtime, service=svc, user=user,
                                       model_version_id=int(_number(form.get("model_version_id")) or 0),
                                       reason=reason)
            elif action == "attach_external":
                traffic.attach_backend(session, runtime=runtime, service=svc, user=user,
                                       external=_external_form(form), reason=reason)
            elif action in ("canary", "shadow", "single"):
                weight = _number(form.get("weight_pct"))
                traffic.set_traffic(session, runtime=runtime, service=svc, user=user, policy=action,
                                    backend_id=backend_id, weight=weight / 100 if weight is not None else None,
                                    reason=reason)
            elif action == "promote":
                traffic.promote(session, runtime=runtime, service=svc, user=user, backend_id=backend_id,
                                reason=reason)
            elif action == "rollback":
                traffic.rollback(session, runtime=runtime, service=svc, user=user, reason=require_reason(reason))
            else:
                raise InvalidInput(f"Unknown action {action!r}.")
        except MlpilotError as exc:
            session.rollback()
            return _service_page(request, session, runtime, user, name, form=form,
                                 error=exc.localized(page_gettext(request, user)))
        return RedirectResponse(f"/services/{name}", status_code=303)

    return await run_in_threadpool(act)


@router.post("/services/{name}/stop", response_class=HTMLResponse, dependencies=[access.Service.write])
async def stop_service_form(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                            user: PageUser) -> Response:
    """Stop a service: confirmed with a reason, kept in the change history; Start serves it again."""
    return await _lifecycle_form(name, request, session, runtime, user, "stop")


@router.post("/services/{name}/start", response_class=HTMLResponse, dependencies=[access.Service.write])
async def start_service_form(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                             user: PageUser) -> Response:
    """Start a stopped service again with the backends and traffic policy it had."""
    return await _lifecycle_form(name, request, session, runtime, user, "start")


async def _lifecycle_form(name: str, request: Request, session: DbSession, runtime: RuntimeDep, user: User,
                          action: str) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> Response:
        try:
            if action == "stop":
                service.stop_service(session, runtime=runtime, name=name, user=user,
                                     reason=require_reason(form.get("reason")))
            else:
                service.start_service(session, runtime=runtime, name=name, user=user,
                                      reason=(form.get("reason") or "").strip()[:500])
        except MlpilotError as exc:
            session.rollback()
            return _service_page(request, session, runtime, user, name, form={**form, "confirm": action},
                                 error=exc.localized(page_gettext(request, user)))
        return RedirectResponse(f"/services/{name}", status_code=303)

    return await run_in_threadpool(act)


@router.post("/services/{name}/cost", response_class=HTMLResponse, dependencies=[access.Service.write])
async def unit_cost_form(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                         user: PageUser) -> Response:
    """Set the price of one request of the service (the monitoring screen's cost view multiplies it)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        svc = service.check_service_access(session, name=name, user=user, write=True)
        text = (form.get("unit_cost") or "").strip().replace(",", "")
        try:
            value = float(text)
        except ValueError:
            raise InvalidInput.translatable(N_("The unit cost must be a number such as 0.5; got %(value)s."),
                                            value=repr(text[:40])) from None
        alerts.set_unit_cost(session, service=svc.name, unit_cost=value, currency=form.get("currency", "")[:20])
    except MlpilotError as exc:
        session.rollback()
        return _service_page(request, session, runtime, user, name, form={**form, "confirm": "cost"},
                             error=exc.localized(page_gettext(request, user)))
    return RedirectResponse(f"/services/{name}#cost", status_code=303)


def _section(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
             form: dict[str, str] | None = None, message: str | None = None,
             deployed_label: str | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    services = service.list_services(session, project_id=project_id)
    model_versions = registry_service.list_model_versions(session, project_id=project_id)
    return render(request, "serving/_section.html", user=user, p=project, services=services,
                  labels=_labels(session, services), stats=_traffic(session, services),
                  model_versions=model_versions, can_write=_can_write(user), error=error, form=form or {},
                  message=message, deployed_label=deployed_label or message)


@router.get("/projects/{project_id}/_section/services", response_class=HTMLResponse, dependencies=[access.Project.read])
def services_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


@router.post("/projects/{project_id}/_section/services", response_class=HTMLResponse,
        dependencies=[access.Project.write])
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
            return _section(request, session, user, project_id, error=exc.localized(page_gettext(request, user)),
                            form=form)
        return _section(request, session, user, project_id, message=svc.name, deployed_label=svc.label)

    return await run_in_threadpool(act)


def _traffic(session: Session, services: list[Service]) -> dict[str, Totals]:
    """Each service's traffic totals over the last 24 hours."""
    since = utcnow() - dt.timedelta(hours=24)
    return monitoring_service.summarize_services(session, service_names=[s.name for s in services], since=since)
