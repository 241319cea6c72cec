"""Use cases of a service's backends and traffic: attach, canary, shadow, promote, rollback — each audited.

Every change follows one path (`_change`): check, change the rows, build the new route, have the data
plane load and swap it in, then commit with an audit row holding who, why, when and the routing before
and after. If the data plane cannot load the new route nothing is committed; if the commit fails the
data plane is put back. Clients never notice: the contract is checked before a backend is attached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.core.runtime import Runtime
from mlpilot.core.secrets import masked, seal_values, unseal_values
from mlpilot.dataplane import routing
from mlpilot.dataplane.server import DataPlane
from mlpilot.notifications.service import publish
from mlpilot.registry import service as registry_service
from mlpilot.registry.external import check_external_config
from mlpilot.registry.signature import Signature
from mlpilot.serving.models import BackendKind, Deployment, DeploymentAction, Service, ServiceBackend, TrafficPolicy
from mlpilot.serving.schemas import LiveRouting

Mutation = Callable[[Service], None]


def attached_dataplane(runtime: Runtime) -> DataPlane | None:
    """The data plane this process serves models with, typed (None when it serves none)."""
    plane = runtime.dataplane
    if plane is not None and not isinstance(plane, DataPlane):
        raise TypeError(f"runtime.dataplane holds a {type(plane).__name__}, not a DataPlane.")
    return plane



def model_label(model_version: Any) -> str:
    """Return the telemetry label of a model-version backend: 'model:churn v3'."""
    return f"model:{model_version.name} v{model_version.version}"


def service_contract(session: Session, *, service: Service) -> Signature:
    """Return the input/output contract clients of `service` rely on."""
    if service.contract:
        return Signature.from_dict(service.contract)
    if service.model_version_id is None:
        raise InvalidInput(f"Service {service.name!r} has no contract.")
    model_version = registry_service.get_model_version(session, model_version_id=service.model_version_id)
    return Signature.from_dict(model_version.signature)


def list_backends(session: Session, *, service_id: int) -> list[ServiceBackend]:
    """Return the backends attached to a service, oldest first."""
    stmt = select(ServiceBackend).where(ServiceBackend.service_id == service_id).order_by(ServiceBackend.id)
    return list(session.scalars(stmt))


def get_backend(session: Session, *, service: Service, backend_id: int) -> ServiceBackend:
    """Return backend `backend_id` of `service`."""
    backend = session.get(ServiceBackend, backend_id)
    if backend is None or backend.service_id != service.id:
        known = ", ".join(str(b.id) for b in list_backends(session, service_id=service.id)) or "none"
        raise NotFound(f"Service {service.name!r} has no backend {backend_id}; its backends are: {known}.")
    return backend


def backend_role(service: Service, backend: ServiceBackend) -> str:
    """Return what a backend does for its service now: primary, canary, shadow, previous or idle."""
    if backend.id == service.primary_backend_id:
        return "primary"
    if backend.id == service.candidate_backend_id and service.policy != TrafficPolicy.single:
        return str(service.policy)
    if backend.id == service.previous_primary_backend_id:
        return "previous"
    return "idle"


def routing_state(session: Session, *, service: Service) -> dict[str, Any]:
    """Return the service's routing as plain labels (what the audit records before and after a change)."""
    labels = {b.id: b.label for b in list_backends(session, service_id=service.id)}
    return {
        "state": str(service.state), "policy": str(service.policy),
        "primary": labels.get(service.primary_backend_id or -1),
        "candidate": labels.get(service.candidate_backend_id or -1) if service.policy != "single" else None,
        "weight": service.canary_weight if service.policy == TrafficPolicy.canary else None,
        "previous": labels.get(service.previous_primary_backend_id or -1),
    }


SEALED_HEADERS = "sealed_headers"


def seal_external_config(settings: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Store an external backend's headers (API keys) encrypted: only their names stay readable."""
    sealed = dict(config)
    headers = sealed.pop("headers", None) or {}
    sealed["header_names"] = sorted(headers)
    sealed[SEALED_HEADERS] = seal_values(settings, headers)
    return sealed


def unseal_external_config(settings: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Return the config the data plane calls with: the headers decrypted."""
    plain = {k: v for k, v in config.items() if k not in (SEALED_HEADERS, "header_names")}
    token = config.get(SEALED_HEADERS)
    plain["headers"] = (unseal_values(settings, token, what=f"external backend {config.get('name')!r} headers")
                        if token else dict(config.get("headers") or {}))
    return plain


def public_config(config: dict[str, Any]) -> dict[str, Any]:
    """An external backend's config as shown to users: header values masked, ciphertext left out."""
    shown = {k: v for k, v in config.items() if k not in (SEALED_HEADERS, "header_names", "headers")}
    names = config.get("header_names") or sorted(config.get("headers") or {})
    if names:
        shown["headers"] = masked(names)
    return shown


def _backend_spec(session: Session, runtime: Runtime, backend: ServiceBackend) -> routing.BackendSpec:
    if backend.kind == BackendKind.external:
        return routing.BackendSpec(label=backend.label, version=backend.config.get("name", backend.label),
                                   kind="external", config=unseal_external_config(runtime.settings, backend.config))
    assert backend.model_version_id is not None
    model_version = registry_service.get_model_version(session, model_version_id=backend.model_version_id)
    path = registry_service.resolve_model_path(store=runtime.store, model_version=model_version)
    return routing.BackendSpec(label=backend.label, version=str(model_version.version), kind="model",
                               model_path=path)


def route_spec(session: Session, *, runtime: Runtime, service: Service) -> routing.RouteSpec:
    """Describe the service's routing for the data plane (plain objects, no rows)."""
    if service.primary_backend_id is None:
        raise InvalidInput(f"Service {service.name!r} has no primary backend.")
    primary = get_backend(session, service=service, backend_id=service.primary_backend_id)
    candidate = None
    if service.policy != TrafficPolicy.single and service.candidate_backend_id is not None:
        candidate = _backend_spec(session, runtime,
                                  get_backend(session, service=service, backend_id=service.candidate_backend_id))
    return routing.RouteSpec(contract=service_contract(session, service=service), policy=str(service.policy),
                             primary=_backend_spec(session, runtime, primary), candidate=candidate,
                             weight=float(service.canary_weight or 0.0))


def preload(session: Session, *, runtime: Runtime, service: Service, backend: ServiceBackend | None = None,
            model_version: Any = None) -> None:
    """Load a model backend before the change that routes to it, so no transaction waits on a model load."""
    plane = attached_dataplane(runtime)
    if plane is None or service.state != "deployed":
        return
    if model_version is not None:
        preload_model(runtime, model_version=model_version, contract=service_contract(session, service=service))
        return
    if backend is not None and backend.kind == BackendKind.model:
        spec = _backend_spec(session, runtime, backend)
    else:
        return
    routing.preload_backend(plane, spec, service_contract(session, service=service))


def preload_model(runtime: Runtime, *, model_version: Any, contract: Signature) -> None:
    """Load a model version into the data plane's ready cache (it raises InvalidInput when it cannot load)."""
    plane = attached_dataplane(runtime)
    if plane is None:
        return
    path = registry_service.resolve_model_path(store=runtime.store, model_version=model_version)
    spec = routing.BackendSpec(label=model_label(model_version), version=str(model_version.version), kind="model",
                               model_path=path)
    routing.preload_backend(plane, spec, contract)


def install_service(session: Session, *, runtime: Runtime, service: Service) -> Any:
    """Load the service's routing into the data plane; return the route it replaced."""
    from mlpilot.serving.service import require_dataplane

    return routing.install_route(require_dataplane(runtime), service.name,
                                 route_spec(session, runtime=runtime, service=service))


def apply_change(session: Session, *, runtime: Runtime, service: Service, user: User, action: DeploymentAction,
                 reason: str, mutate: Mutation, model_version_id: int | None = None) -> Service:
    """Change the service's rows with `mutate`, swap the data plane to the result, commit with an audit row."""
    from mlpilot.serving.service import require_dataplane

    dataplane = require_dataplane(runtime)
    installed = False
    previous_route = dataplane.routes.get(service.name)
    previous_model = dataplane.get(service.name)
    try:
        with unit_of_work(session):
            # A service being created has no routing yet: its audit row shows nothing before.
            before = routing_state(session, service=service) if service.primary_backend_id is not None else {}
            previous_version = service.model_version_id
            mutate(service)
            service.updated_at = utcnow()
            session.flush()
            after = routing_state(session, service=service)
            if service.state == "deployed":
                routing.install_route(dataplane, service.name, route_spec(session, runtime=runtime, service=service))
                installed = True
            session.add(Deployment(service_id=service.id, model_version_id=model_version_id or service.model_version_id,
                                   previous_model_version_id=previous_version, action=action, user_id=user.id,
                                   reason=reason[:500], before=before, after=after))
            # Subscribers hear of the change only if it commits (same transaction as the audit row).
            publish(session, "deployment.changed", {
                "service": service.name, "action": getattr(action, "value", action), "user": user.username,
                "reason": reason[:500], "model_version_id": model_version_id or service.model_version_id,
                "previous_model_version_id": previous_version, "before": before, "after": after})
    except BaseException:
        if installed:
            # The change did not commit, so the data plane goes back to what it served before.
            if previous_route is not None:
                dataplane.swap_route(service.name, previous_route)
            elif previous_model is not None:
                dataplane.restore(service.name, previous_model)
            else:
                dataplane.unload(service.name)
        raise
    routing.close_unused(previous_route, dataplane.routes.get(service.name))
    return service


def find_model_backend(session: Session, *, service: Service, model_version_id: int) -> ServiceBackend | None:
    """Return the service's backend for model version `model_version_id`, if attached."""
    return session.scalar(select(ServiceBackend).where(ServiceBackend.service_id == service.id,
                                                       ServiceBackend.model_version_id == model_version_id))


def check_model_fits(session: Session, *, service: Service, model_version_id: int) -> Any:
    """Return the model version if it belongs to the service's project and fits its contract; else raise."""
    model_version = registry_service.get_model_version(session, model_version_id=model_version_id)
    if model_version.project_id != service.project_id:
        raise InvalidInput(f"Model version {model_version_id} belongs to project {model_version.project_id}, "
                           f"not {service.project_id}; attach models of this project only.")
    if model_version.stage == "archived":
        raise InvalidInput(f"Model version {model_version_id} is archived; move it back to staging first.")
    problems = routing.contract_problems(service_contract(session, service=service),
                                         Signature.from_dict(model_version.signature))
    if problems:
        raise InvalidInput(f"{model_label(model_version)} cannot back service {service.name!r} without changing "
                           f"its clients: {'; '.join(problems)}.")
    return model_version


def new_model_backend(session: Session, *, service: Service, model_version: Any, user: User) -> ServiceBackend:
    """Attach (flush) a backend row for a checked model version, or return the existing one."""
    backend = find_model_backend(session, service=service, model_version_id=model_version.id)
    if backend is None:
        backend = ServiceBackend(service_id=service.id, kind=BackendKind.model, model_version_id=model_version.id,
                                 config={}, label=model_label(model_version), created_by_id=user.id)
        session.add(backend)
        session.flush()
    return backend


def attach_backend(session: Session, *, runtime: Runtime, service: Service, user: User,
                   model_version_id: int | None = None, external: dict[str, Any] | None = None,
                   reason: str = "") -> ServiceBackend:
    """Attach a model version or an external engine to a service (idle until a policy sends it traffic)."""
    if (model_version_id is None) == (external is None):
        raise InvalidInput("Attach exactly one of a model version (model_version_id) or an external engine "
                           "(external: {name, url, request, response_path, ...}).")
    created: list[ServiceBackend] = []

    def mutate(svc: Service) -> None:
        if model_version_id is not None:
            model_version = check_model_fits(session, service=svc, model_version_id=model_version_id)
            if find_model_backend(session, service=svc, model_version_id=model_version_id) is not None:
                raise Conflict(f"{model_label(model_version)} is already a backend of service {svc.name!r}.")
            created.append(new_model_backend(session, service=svc, model_version=model_version, user=user))
            return
        assert external is not None
        config = check_external_config(external)
        runtime.allowlist.outbound_url(config.url, field_name="external.url")
        label = f"external:{config.name}"
        if any(b.label == label for b in list_backends(session, service_id=svc.id)):
            raise Conflict(f"Service {svc.name!r} already has a backend named {config.name!r}.")
        backend = ServiceBackend(service_id=svc.id, kind=BackendKind.external, model_version_id=None,
                                 config=seal_external_config(runtime.settings, config.as_dict()),
                                 label=label, created_by_id=user.id)
        session.add(backend)
        session.flush()
        created.append(backend)

    apply_change(session, runtime=runtime, service=service, user=user, action=DeploymentAction.attach,
                 reason=reason, mutate=mutate, model_version_id=model_version_id)
    return created[0]


def set_traffic(session: Session, *, runtime: Runtime, service: Service, user: User, policy: str,
                backend_id: int | None = None, weight: float | None = None, reason: str = "") -> Service:
    """Set the traffic policy: single, canary (candidate answers `weight` of requests) or shadow (mirrored)."""
    if policy not in routing.POLICIES:
        raise InvalidInput(f"Traffic policy {policy!r} is unknown; expected one of: {', '.join(routing.POLICIES)}.")
    if policy != "single":
        if backend_id is None:
            raise InvalidInput(f"A {policy} policy needs the candidate backend's id (see the service's backends).")
        candidate = get_backend(session, service=service, backend_id=backend_id)
        if candidate.id == service.primary_backend_id:
            raise InvalidInput(f"Backend {backend_id} is already the primary; choose another backend as candidate.")
    if policy == "canary":
        if weight is None or not 0 < weight < 1:
            raise InvalidInput(f"A canary weight is the candidate's share of requests, between 0 and 1 exclusive "
                               f"(got {weight}); e.g. 0.1 for 10 %.")

    def mutate(svc: Service) -> None:
        svc.policy = policy
        svc.candidate_backend_id = backend_id if policy != "single" else None
        svc.canary_weight = float(weight) if policy == "canary" and weight is not None else 0.0

    if policy != "single":
        preload(session, runtime=runtime, service=service, backend=candidate)
    action = {"single": DeploymentAction.single, "canary": DeploymentAction.canary,
              "shadow": DeploymentAction.shadow}[policy]
    return apply_change(session, runtime=runtime, service=service, user=user, action=action, reason=reason,
                        mutate=mutate)


def make_primary(svc: Service, backend: ServiceBackend) -> None:
    """Make `backend` the service's only answering backend, keeping the old primary for a rollback."""
    if svc.primary_backend_id != backend.id:
        svc.previous_primary_backend_id = svc.primary_backend_id
    svc.primary_backend_id = backend.id
    svc.model_version_id = backend.model_version_id
    svc.policy = TrafficPolicy.single
    svc.candidate_backend_id = None
    svc.canary_weight = 0.0


def promote(session: Session, *, runtime: Runtime, service: Service, user: User, backend_id: int | None = None,
            reason: str = "") -> Service:
    """Make the candidate (or backend `backend_id`) the primary; the old primary is kept for a rollback."""
    backend_id = backend_id if backend_id is not None else (
        service.candidate_backend_id if service.policy != TrafficPolicy.single else None)
    if backend_id is None:
        raise InvalidInput(f"Service {service.name!r} has no canary or shadow candidate to promote; "
                           "name the backend to promote.")
    backend = get_backend(session, service=service, backend_id=backend_id)
    if backend.id == service.primary_backend_id:
        raise Conflict(f"Backend {backend.label} is already the primary of {service.name!r}.")
    preload(session, runtime=runtime, service=service, backend=backend)
    return apply_change(session, runtime=runtime, service=service, user=user, action=DeploymentAction.promote,
                        reason=reason, mutate=lambda svc: make_primary(svc, backend),
                        model_version_id=backend.model_version_id)


def rollback(session: Session, *, runtime: Runtime, service: Service, user: User, reason: str = "") -> Service:
    """Go back one step: the previous primary serves alone again (a second rollback undoes the first)."""
    if service.previous_primary_backend_id is None:
        raise Conflict(f"Service {service.name!r} has no previous primary to roll back to.")
    backend = get_backend(session, service=service, backend_id=service.previous_primary_backend_id)
    preload(session, runtime=runtime, service=service, backend=backend)
    return apply_change(session, runtime=runtime, service=service, user=user, action=DeploymentAction.rollback,
                        reason=reason, mutate=lambda svc: make_primary(svc, backend),
                        model_version_id=backend.model_version_id)


def live_status(runtime: Runtime, name: str) -> LiveRouting:
    """Return what the data plane routes for `name` now, with the shadow comparison if any."""
    plane = attached_dataplane(runtime)
    if plane is None:
        return LiveRouting(backends=[], shadow=None)
    return LiveRouting(backends=routing.live_backends(plane, name), shadow=routing.shadow_stats(plane, name))
