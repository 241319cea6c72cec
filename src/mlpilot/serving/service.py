"""Use cases of the serving domain: deploy a model version as a named service, switch it, stop it, load it.

The data plane gets the new model fully loaded before the switch is committed, so a model that fails
to load leaves the running service and its records untouched.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import N_, Conflict, InvalidInput, MlpilotError, NotFound, Unavailable
from mlpilot.core.runtime import Runtime
from mlpilot.dataplane.server import DataPlane
from mlpilot.projects import service as projects_service
from mlpilot.projects.models import Stage
from mlpilot.registry import service as registry_service
from mlpilot.registry.signature import Signature
from mlpilot.serving import traffic
from mlpilot.serving.models import Deployment, DeploymentAction, Service, ServiceState, TrafficPolicy

log = logging.getLogger(__name__)
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DISPLAY_NAME_MAX = 100


def require_dataplane(runtime: Runtime) -> DataPlane:
    """Return the runtime's data plane, or raise 503 when this process serves no models."""
    plane = traffic.attached_dataplane(runtime)
    if plane is None:
        raise Unavailable("This process does not serve models: the data plane is not running.")
    return plane


def version_label(model_version: Any) -> str:
    """Return the version string the data plane reports for a model version (its number)."""
    return str(model_version.version)


def display_label(model_version: Any) -> str:
    """Return how people see a model version: 'name v3'."""
    return f"{model_version.name} v{model_version.version}"


def primary_label(session: Session, *, service: Service) -> str:
    """Return how people see what a service serves: 'churn v3', or the external engine's label."""
    if service.model_version_id is not None:
        return display_label(registry_service.get_model_version(session, model_version_id=service.model_version_id))
    labels = {b.id: b.label for b in traffic.list_backends(session, service_id=service.id)}
    return labels.get(service.primary_backend_id or -1, "—")


def find_service_by_name(session: Session, *, name: str) -> Service | None:
    """Return the service called `name`, if any."""
    return session.scalar(select(Service).where(Service.name == name))


def get_service_by_name(session: Session, *, name: str) -> Service:
    """Return the service called `name`."""
    service = find_service_by_name(session, name=name)
    if service is None:
        raise NotFound(f"Service {name!r} does not exist.")
    return service


def check_service_access(session: Session, *, name: str, user: User, write: bool = False) -> Service:
    """Return service `name` if `user` may read it (or change it, with write=True)."""
    service = get_service_by_name(session, name=name)
    projects_service.check_project_access(session, project_id=service.project_id, user=user, write=write)
    return service


def list_services(session: Session, *, project_id: int | None = None,
                  project_ids: list[int] | None = None) -> list[Service]:
    """Return services by name, optionally of one project or of several."""
    stmt = select(Service).order_by(Service.name)
    if project_id is not None:
        stmt = stmt.where(Service.project_id == project_id)
    if project_ids is not None:
        stmt = stmt.where(Service.project_id.in_(project_ids))
    return list(session.scalars(stmt))


def list_user_services(session: Session, *, user: User) -> list[Service]:
    """Return the services of every project `user` can see."""
    project_ids = [p.id for p in projects_service.list_projects(session, user=user)]
    return list_services(session, project_ids=project_ids)


def token_service_scopes(session: Session) -> dict[str, frozenset[str] | None]:
    """Return, per valid token hash, the services its user may call (None: every service, for admins)."""
    from mlpilot.accounts import service as accounts_service

    names_by_project: dict[int, set[str]] = {}
    for svc in list_services(session):
        names_by_project.setdefault(svc.project_id, set()).add(svc.name)
    cache: dict[int, frozenset[str]] = {}
    scopes: dict[str, frozenset[str] | None] = {}
    for digest, (user_id, role) in accounts_service.active_token_owners(session).items():
        if role == "admin":
            scopes[digest] = None
            continue
        if user_id not in cache:
            projects = projects_service.list_project_ids_of_user(session, user_id=user_id)
            cache[user_id] = frozenset(n for pid in projects for n in names_by_project.get(pid, ()))
        scopes[digest] = cache[user_id]
    return scopes


def list_deployments(session: Session, *, service_id: int) -> list[Deployment]:
    """Return a service's deployment history, newest first."""
    stmt = select(Deployment).where(Deployment.service_id == service_id).order_by(Deployment.id.desc())
    return list(session.scalars(stmt))


def get_service_signature(session: Session, *, service: Service) -> Signature:
    """Return the input/output contract of a service (fixed when it was created)."""
    return traffic.service_contract(session, service=service)


def endpoint_name(name: str) -> tuple[str, str]:
    """Return the ASCII name of the endpoint URLs and the display name for the name a person typed.

    A name already fit for URLs (lowercase letters, digits, '-') is both. Any other (Korean, spaces, capitals)
    is kept as the display name and gets a stable ASCII name: its ASCII part plus a short hash of the whole, so
    deploying under the same name again reaches the same service.
    """
    name = name.strip()
    if NAME_PATTERN.match(name):
        return name, ""
    if not registry_service.name_part(name) or len(name) > DISPLAY_NAME_MAX:
        raise InvalidInput.translatable(
            N_("Service name %(name)s is invalid: use 1–%(max)d characters with at least one letter or digit "
               "(e.g. 'churn-scoring' or '이탈 점수')."), name=repr(name), max=DISPLAY_NAME_MAX)
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    ascii_part = registry_service.slugify(name)[:50].strip("-")
    return (f"{ascii_part}-{digest}" if ascii_part else f"svc-{digest}"), name


def deploy_model_version(session: Session, *, runtime: Runtime, project_id: int, user: User, name: str,
                         model_version_id: int, reason: str = "") -> Service:
    """Serve a model version under `name`: create the service or make that version its primary.

    A new service takes the model's signature as its contract; an existing one accepts only a model that
    fits its contract, so its clients never change.
    """
    name, display_name = endpoint_name(name)
    projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
    model_version = registry_service.get_model_version(session, model_version_id=model_version_id)
    if model_version.project_id != project_id:
        raise InvalidInput(f"Model version {model_version_id} belongs to project {model_version.project_id}, "
                           f"not {project_id}; deploy models of this project only.")
    service = find_service_by_name(session, name=name)
    if service is not None and service.project_id != project_id:
        raise Conflict(f"The service name {name!r} is taken by another project; choose another name.")
    if service is not None and service.state == ServiceState.deployed and service.model_version_id == model_version_id:
        raise Conflict(f"Service {name!r} already serves {display_label(model_version)}.")
    require_dataplane(runtime)
    if service is None:
        traffic.preload_model(runtime, model_version=model_version,
                              contract=Signature.from_dict(model_version.signature))
        with unit_of_work(session):
            service = Service(name=name, display_name=display_name, project_id=project_id, model_version_id=None,
                              state=ServiceState.deployed,
                              created_by_id=user.id, contract=dict(model_version.signature),
                              policy=TrafficPolicy.single, canary_weight=0.0)
            session.add(service)
            session.flush()
            action = DeploymentAction.deploy
            _deploy(session, runtime, service, user, model_version, action, reason)
    else:
        action = DeploymentAction.update if service.state == ServiceState.deployed else DeploymentAction.deploy
        traffic.check_model_fits(session, service=service, model_version_id=model_version_id)
        traffic.preload(session, runtime=runtime, service=service, model_version=model_version)
        _deploy(session, runtime, service, user, model_version, action, reason)
    return service


def _deploy(session: Session, runtime: Runtime, service: Service, user: User, model_version: Any,
            action: DeploymentAction, reason: str) -> None:
    def mutate(svc: Service) -> None:
        traffic.make_primary(svc, traffic.new_model_backend(session, service=svc, model_version=model_version,
                                                            user=user))
        svc.state = ServiceState.deployed
        projects_service.advance_stage_to(session, project_id=svc.project_id, user=user, stage=Stage.deploy,
                                          note=f"service {svc.name} deployed")

    traffic.apply_change(session, runtime=runtime, service=service, user=user, action=action, reason=reason,
                         mutate=mutate, model_version_id=model_version.id)


def stop_service(session: Session, *, runtime: Runtime, name: str, user: User, reason: str = "") -> Service:
    """Stop serving `name`; its history stays and it can be deployed again."""
    with unit_of_work(session):
        service = check_service_access(session, name=name, user=user, write=True)
        if service.state == ServiceState.stopped:
            raise Conflict(f"Service {name!r} is already stopped.")
        before = traffic.routing_state(session, service=service)
        service.state = ServiceState.stopped
        service.updated_at = utcnow()
        session.add(Deployment(service_id=service.id, model_version_id=service.model_version_id,
                               previous_model_version_id=service.model_version_id, action=DeploymentAction.stop,
                               user_id=user.id, reason=reason[:500], before=before,
                               after=traffic.routing_state(session, service=service)))
    plane = traffic.attached_dataplane(runtime)
    if plane is not None:
        plane.unload(name)
    return service


def start_service(session: Session, *, runtime: Runtime, name: str, user: User, reason: str = "") -> Service:
    """Serve a stopped service again with the backends and traffic policy it had when it was stopped."""
    service = check_service_access(session, name=name, user=user, write=True)
    if service.state != ServiceState.stopped:
        raise Conflict(f"Service {name!r} is already running.")
    if service.primary_backend_id is None:
        raise Conflict(f"Service {name!r} has no backend to start; deploy a model version to it.")
    require_dataplane(runtime)

    def mutate(svc: Service) -> None:
        svc.state = ServiceState.deployed

    return traffic.apply_change(session, runtime=runtime, service=service, user=user, action=DeploymentAction.start,
                                reason=reason, mutate=mutate)


def load_deployed_services(session: Session, *, runtime: Runtime) -> int:
    """Load every deployed service into the runtime's data plane; return how many loaded."""
    dataplane = traffic.attached_dataplane(runtime)
    if dataplane is None:
        return 0
    loaded = 0
    stmt = select(Service).where(Service.state == ServiceState.deployed).order_by(Service.name)
    for service in session.scalars(stmt):
        try:
            traffic.install_service(session, runtime=runtime, service=service)
            loaded += 1
        except Exception as exc:
            detail = exc.detail if isinstance(exc, MlpilotError) else f"{type(exc).__name__}: {exc}"
            log.warning("service %r could not be loaded: %s", service.name, detail)
            dataplane.mark_unavailable(service.name, detail)
    return loaded


def get_servable_service(session: Session, *, name: str, user: User) -> Service:
    """Return service `name` if `user` may call it and it is deployed."""
    service = check_service_access(session, name=name, user=user)
    if service.state != ServiceState.deployed:
        raise Unavailable(f"Service {name!r} is stopped; deploy a model version to serve it again.")
    return service


