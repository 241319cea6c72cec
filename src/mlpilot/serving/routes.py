"""REST routes of the serving domain: deploy, list, inspect and stop services, and plain-JSON predictions."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.dataplane.asgi import read_body_limited
from mlpilot.registry import service as registry_service
from mlpilot.serving import service, traffic
from mlpilot.serving.addresses import base_url, endpoints
from mlpilot.serving.models import Service
from mlpilot.serving.schemas import (
    BackendCreate,
    BackendRead,
    DeploymentRead,
    InputRead,
    LiveRouting,
    ModelVersionRef,
    PredictRequest,
    PredictResponse,
    PromoteRequest,
    ReasonRequest,
    ServiceCreate,
    ServiceDetail,
    ServiceRead,
    ServiceStop,
    TrafficUpdate,
)
from mlpilot.web import access

router = APIRouter(tags=["serving"])


def backend_reads(session: DbSession, svc: Service) -> list[BackendRead]:
    """Return the service's backends with the role each plays now."""
    return [BackendRead.model_validate(b).model_copy(update={"role": traffic.backend_role(svc, b),
                                                            "config": traffic.public_config(b.config)})
            for b in traffic.list_backends(session, service_id=svc.id)]


def audit_reads(session: DbSession, svc: Service) -> list[DeploymentRead]:
    """Return the service's audited changes, newest first, with the user's name."""
    names: dict[int, str] = {}
    rows = []
    for change in service.list_deployments(session, service_id=svc.id):
        if change.user_id is not None and change.user_id not in names:
            names[change.user_id] = accounts_service.get_user(session, user_id=change.user_id).username
        rows.append(DeploymentRead.model_validate(change).model_copy(
            update={"user": names.get(change.user_id) if change.user_id is not None else None}))
    return rows


def service_detail(session: DbSession, runtime: RuntimeDep, svc: Service, url: str) -> ServiceDetail:
    ref = None
    if svc.model_version_id is not None:
        model_version = registry_service.get_model_version(session, model_version_id=svc.model_version_id)
        ref = ModelVersionRef(id=model_version.id, name=model_version.name, version=model_version.version)
    signature = service.get_service_signature(session, service=svc)
    live = traffic.live_status(runtime, svc.name)
    primary = service.primary_label(session, service=svc)
    return ServiceDetail(
        **ServiceRead.model_validate(svc).model_dump(),
        model_version=ref,
        primary=primary,
        loaded=any(b.role == "primary" for b in live.backends) and svc.state == "deployed",
        endpoints=endpoints(url, svc.name),
        task=signature.task,
        classes=list(signature.classes) if signature.classes is not None else None,
        inputs=[InputRead(name=c.name, dtype=c.dtype, nullable=c.nullable,
                          categories=list(c.categories) if c.categories is not None else None)
                for c in signature.inputs],
        deployments=audit_reads(session, svc),
        backends=backend_reads(session, svc),
        live=live,
    )


@router.post("/projects/{project_id}/services", response_model=ServiceDetail, status_code=201,
        dependencies=[access.Project.write])
def deploy(project_id: int, body: ServiceCreate, request: Request, session: DbSession, runtime: RuntimeDep,
           user: CurrentUser) -> ServiceDetail:
    svc = service.deploy_model_version(session, runtime=runtime, project_id=project_id, user=user, name=body.name,
                                       model_version_id=body.model_version_id, reason=body.reason)
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.get("/services", response_model=list[ServiceRead])
def list_services(session: DbSession, user: CurrentUser, project_id: int | None = None) -> list[ServiceRead]:
    services = service.list_user_services(session, user=user)
    if project_id is not None:
        services = [s for s in services if s.project_id == project_id]
    return [ServiceRead.model_validate(s) for s in services]


@router.get("/services/{name}", response_model=ServiceDetail, dependencies=[access.Service.read])
def get_service(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                user: CurrentUser) -> ServiceDetail:
    svc = service.check_service_access(session, name=name, user=user)
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.post("/services/{name}/stop", response_model=ServiceDetail, dependencies=[access.Service.write])
def stop(name: str, request: Request, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
         body: ServiceStop | None = None) -> ServiceDetail:
    svc = service.stop_service(session, runtime=runtime, name=name, user=user, reason=body.reason if body else "")
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.post("/services/{name}/start", response_model=ServiceDetail, dependencies=[access.Service.write])
def start(name: str, request: Request, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
          body: ServiceStop | None = None) -> ServiceDetail:
    """Serve a stopped service again with the backends and traffic policy it had when it was stopped."""
    svc = service.start_service(session, runtime=runtime, name=name, user=user, reason=body.reason if body else "")
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.post("/services/{name}/predict", response_model=PredictResponse,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": PredictRequest.model_json_schema()}}}},
             dependencies=[access.Service.read])
async def predict(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                  user: CurrentUser) -> PredictResponse:
    """Predict for JSON records; validated like the OIP endpoint and recorded in monitoring."""
    started = time.perf_counter()
    await run_in_threadpool(service.get_servable_service, session, name=name, user=user)
    dataplane = service.require_dataplane(runtime)
    body = await read_body_limited(request, dataplane.settings.max_body_bytes)
    result = await run_in_threadpool(dataplane.predict_json, name, body, started=started)
    return PredictResponse(**result)


@router.get("/services/{name}/backends", response_model=list[BackendRead], dependencies=[access.Service.read])
def list_backends(name: str, session: DbSession, user: CurrentUser) -> list[BackendRead]:
    """List the service's backends (model versions and external engines) with their roles."""
    return backend_reads(session, service.check_service_access(session, name=name, user=user))


@router.post("/services/{name}/backends", response_model=BackendRead, status_code=201,
        dependencies=[access.Service.write])
def attach_backend(name: str, body: BackendCreate, session: DbSession, runtime: RuntimeDep,
                   user: CurrentUser) -> BackendRead:
    """Attach a model version or an external engine; its signature must fit the service contract."""
    svc = service.check_service_access(session, name=name, user=user, write=True)
    backend = traffic.attach_backend(session, runtime=runtime, service=svc, user=user,
                                     model_version_id=body.model_version_id,
                                     external=body.external.model_dump() if body.external else None,
                                     reason=body.reason)
    return BackendRead.model_validate(backend).model_copy(update={"role": traffic.backend_role(svc, backend),
                                                                  "config": traffic.public_config(backend.config)})


@router.put("/services/{name}/traffic", response_model=ServiceDetail, dependencies=[access.Service.write])
def set_traffic(name: str, body: TrafficUpdate, request: Request, session: DbSession, runtime: RuntimeDep,
                user: CurrentUser) -> ServiceDetail:
    """Set the traffic policy: single, canary (weighted) or shadow (mirrored, answers compared)."""
    svc = service.check_service_access(session, name=name, user=user, write=True)
    traffic.set_traffic(session, runtime=runtime, service=svc, user=user, policy=body.policy,
                        backend_id=body.backend_id, weight=body.weight, reason=body.reason)
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.post("/services/{name}/promote", response_model=ServiceDetail, dependencies=[access.Service.write])
def promote(name: str, request: Request, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
            body: PromoteRequest | None = None) -> ServiceDetail:
    """Make the candidate (or a named backend) the primary, with no failed request during the swap."""
    svc = service.check_service_access(session, name=name, user=user, write=True)
    traffic.promote(session, runtime=runtime, service=svc, user=user, backend_id=body.backend_id if body else None,
                    reason=body.reason if body else "")
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.post("/services/{name}/rollback", response_model=ServiceDetail, dependencies=[access.Service.write])
def rollback(name: str, request: Request, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
             body: ReasonRequest | None = None) -> ServiceDetail:
    """Put the previous primary back (one step)."""
    svc = service.check_service_access(session, name=name, user=user, write=True)
    traffic.rollback(session, runtime=runtime, service=svc, user=user, reason=body.reason if body else "")
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.get("/services/{name}/audit", response_model=list[DeploymentRead], dependencies=[access.Service.read])
def audit(name: str, session: DbSession, user: CurrentUser) -> list[DeploymentRead]:
    """Every change of the service: who, why, when, routing before and after."""
    return audit_reads(session, service.check_service_access(session, name=name, user=user))


@router.get("/services/{name}/live", response_model=LiveRouting, dependencies=[access.Service.read])
def live(name: str, session: DbSession, runtime: RuntimeDep, user: CurrentUser) -> LiveRouting:
    """What the data plane routes now, and the shadow comparison (agreement rate, mean abs diff)."""
    service.check_service_access(session, name=name, user=user)
    return traffic.live_status(runtime, name)
