"""REST routes of the serving domain: deploy, list, inspect and stop services, and plain-JSON predictions."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.dataplane.server import read_body_limited
from mlpilot.registry import service as registry_service
from mlpilot.serving import service
from mlpilot.serving.models import Service
from mlpilot.serving.schemas import (
    DeploymentRead,
    Endpoints,
    InputRead,
    ModelVersionRef,
    PredictRequest,
    PredictResponse,
    ServiceCreate,
    ServiceDetail,
    ServiceRead,
    ServiceStop,
)

router = APIRouter(tags=["serving"])


def endpoints(base_url: str, name: str) -> Endpoints:
    """Return the URLs a caller uses to reach service `name`."""
    base = base_url.rstrip("/")
    return Endpoints(oip_infer=f"{base}/v2/models/{name}/infer", oip_metadata=f"{base}/v2/models/{name}",
                     oip_ready=f"{base}/v2/models/{name}/ready",
                     json_predict=f"{base}/api/v1/services/{name}/predict")


def base_url(request: Request, runtime: RuntimeDep) -> str:
    """Return the address users reach this server at."""
    return runtime.settings.public_url or str(request.base_url)


def service_detail(session: DbSession, runtime: RuntimeDep, svc: Service, url: str) -> ServiceDetail:
    model_version = registry_service.get_model_version(session, model_version_id=svc.model_version_id)
    signature = service.get_service_signature(session, service=svc)
    served = runtime.dataplane.get(svc.name) if runtime.dataplane is not None else None
    return ServiceDetail(
        **ServiceRead.model_validate(svc).model_dump(),
        model_version=ModelVersionRef(id=model_version.id, name=model_version.name, version=model_version.version),
        loaded=served is not None and served.version == service.version_label(model_version),
        endpoints=endpoints(url, svc.name),
        task=signature.task,
        classes=list(signature.classes) if signature.classes is not None else None,
        inputs=[InputRead(name=c.name, dtype=c.dtype, nullable=c.nullable,
                          categories=list(c.categories) if c.categories is not None else None)
                for c in signature.inputs],
        deployments=[DeploymentRead.model_validate(d) for d in service.list_deployments(session, service_id=svc.id)],
    )


@router.post("/projects/{project_id}/services", response_model=ServiceDetail, status_code=201)
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


@router.get("/services/{name}", response_model=ServiceDetail)
def get_service(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                user: CurrentUser) -> ServiceDetail:
    svc = service.check_service_access(session, name=name, user=user)
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.post("/services/{name}/stop", response_model=ServiceDetail)
def stop(name: str, request: Request, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
         body: ServiceStop | None = None) -> ServiceDetail:
    svc = service.stop_service(session, runtime=runtime, name=name, user=user, reason=body.reason if body else "")
    return service_detail(session, runtime, svc, base_url(request, runtime))


@router.post("/services/{name}/predict", response_model=PredictResponse,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": PredictRequest.model_json_schema()}}}})
async def predict(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                  user: CurrentUser) -> PredictResponse:
    """Predict for JSON records; validated like the OIP endpoint and recorded in monitoring."""
    started = time.perf_counter()
    await run_in_threadpool(service.get_servable_service, session, name=name, user=user)
    dataplane = service.require_dataplane(runtime)
    body = await read_body_limited(request, dataplane.settings.max_body_bytes)
    result = await run_in_threadpool(dataplane.predict_json, name, body, started=started)
    return PredictResponse(**result)
