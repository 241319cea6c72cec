"""External HTTP engines: vendor models reached over HTTP, their secret headers sealed (core.secrets)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.core.db import get_existing, unit_of_work
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.core.runtime import Runtime
from mlpilot.core.secrets import masked, seal_values, unseal_values
from mlpilot.projects import service as projects_service
from mlpilot.registry.external import ExternalConfig, check_external_config
from mlpilot.training.models import ExternalEngine
from mlpilot.training.schemas import ExternalEngineRead


def create_external_engine(session: Session, *, runtime: Runtime, project_id: int, config: dict[str, Any],
                           secret_headers: dict[str, str] | None = None,
                           user_id: int | None = None) -> ExternalEngine:
    """Record a vendor model reached over HTTP; secret header values are encrypted like connection secrets."""
    projects_service.get_project(session, project_id=project_id)
    secret_headers = dict(secret_headers or {})
    if not all(isinstance(v, str) for v in secret_headers.values()):
        raise InvalidInput("'secret_headers' must be an object of strings (e.g. {\"Authorization\": \"Bearer …\"}).")
    checked = check_external_config(config)
    runtime.allowlist.outbound_url(checked.url, field_name="url")
    overlap = sorted(set(checked.headers) & set(secret_headers))
    if overlap:
        raise InvalidInput(f"Header {overlap[0]!r} is given both as a plain and a secret header; give it once.")
    if session.scalar(select(ExternalEngine).where(ExternalEngine.project_id == project_id,
                                                   ExternalEngine.name == checked.name)) is not None:
        raise Conflict(f"An external engine named {checked.name!r} already exists in this project.")
    with unit_of_work(session):
        external = ExternalEngine(project_id=project_id, name=checked.name, config=checked.as_dict(),
                                  secrets_encrypted=seal_values(runtime.settings, secret_headers),
                                  created_by_id=user_id)
        session.add(external)
        session.flush()
    return external


def get_external_engine(session: Session, *, external_engine_id: int) -> ExternalEngine:
    return get_existing(session, ExternalEngine, external_engine_id, "External engine")


def delete_external_engine(session: Session, *, project_id: int, external_engine_id: int) -> None:
    """Forget an external engine (its finished runs keep their results; queued ones will fail clearly)."""
    external = get_external_engine(session, external_engine_id=external_engine_id)
    if external.project_id != project_id:
        raise NotFound(f"External engine {external_engine_id} does not exist in this project.")
    with unit_of_work(session):
        session.delete(external)


def list_external_engines(session: Session, *, project_id: int) -> list[ExternalEngine]:
    return list(session.scalars(select(ExternalEngine).where(ExternalEngine.project_id == project_id)
                                .order_by(ExternalEngine.id)))


def describe_external_engine(session: Session, external: ExternalEngine, runtime: Runtime) -> ExternalEngineRead:
    """Plain fields of an external engine, secret header values masked."""
    secrets = unseal_values(runtime.settings, external.secrets_encrypted,
                            what=f"headers of external engine {external.name!r}")
    return ExternalEngineRead(id=external.id, project_id=external.project_id, name=external.name,
                              config=dict(external.config), secret_headers=masked(secrets),
                              created_at=external.created_at)


def resolve_external_config(session: Session, *, runtime: Runtime, external_engine_id: int,
                            project_id: int) -> ExternalConfig:
    """The full configuration an HttpEngine needs, secret headers decrypted."""
    external = get_external_engine(session, external_engine_id=external_engine_id)
    if external.project_id != project_id:
        raise InvalidInput(f"External engine {external_engine_id} belongs to another project.")
    config = dict(external.config)
    config["headers"] = {**config.get("headers", {}), **unseal_values(
        runtime.settings, external.secrets_encrypted, what=f"headers of external engine {external.name!r}")}
    return check_external_config(config)

