"""The marketplace: built-in blueprints (files shipped with mlpilot) and those published or imported here."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import Role, User
from mlpilot.blueprints.models import Blueprint, BlueprintInstance
from mlpilot.blueprints.spec import BlueprintSpec, dump_yaml, load_yaml
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
ORIGINS = ("builtin", "published", "imported")
MAX_QUERY = 200


@functools.cache
def builtin_blueprints() -> dict[str, BlueprintSpec]:
    """The blueprints shipped with mlpilot, by name (each file is checked like any other)."""
    found: dict[str, BlueprintSpec] = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        spec = load_yaml(path.read_text(encoding="utf-8"), where=path.name)
        found[spec.name] = spec
    return found


@dataclass(frozen=True)
class BlueprintEntry:
    """One card of the marketplace: the parsed document and where it came from."""

    spec: BlueprintSpec
    origin: str
    created_at: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def matches(self, words: list[str]) -> bool:
        spec = self.spec
        text = " ".join([spec.name, spec.title.en, spec.title.ko, spec.description.en, spec.description.ko,
                         spec.industry, spec.training.task, spec.training.engine, *spec.tags, *spec.usecases]).lower()
        return all(word in text for word in words)


def _stored(row: Blueprint) -> BlueprintEntry:
    return BlueprintEntry(spec=load_yaml(row.document, where=f"blueprint {row.name}"), origin=row.origin,
                          created_at=row.created_at.isoformat())


def list_blueprints(session: Session, *, query: str | None = None, industry: str | None = None,
                    task: str | None = None, origin: str | None = None) -> list[BlueprintEntry]:
    """Built-ins first, then the stored ones by name; `query` words must all appear (English or Korean)."""
    if query is not None and len(query) > MAX_QUERY:
        raise InvalidInput(f"The search is longer than {MAX_QUERY} characters.")
    if origin is not None and origin not in ORIGINS:
        raise InvalidInput(f"origin must be one of: {', '.join(ORIGINS)}; got {origin!r}.")
    entries = [BlueprintEntry(spec=spec, origin="builtin") for spec in builtin_blueprints().values()]
    entries += [_stored(row) for row in session.scalars(select(Blueprint).order_by(Blueprint.name))]
    words = (query or "").lower().split()
    return [e for e in entries
            if (not words or e.matches(words)) and (not industry or e.spec.industry == industry)
            and (not task or e.spec.training.task == task) and (not origin or e.origin == origin)]


def get_blueprint(session: Session, *, name: str) -> BlueprintEntry:
    """The blueprint called `name` (built-in or stored)."""
    spec = builtin_blueprints().get(name)
    if spec is not None:
        return BlueprintEntry(spec=spec, origin="builtin")
    row = session.scalar(select(Blueprint).where(Blueprint.name == name[:100]))
    if row is None:
        raise NotFound(f"No blueprint named {name[:100]!r}; `mlpilot blueprints list` shows them.")
    return _stored(row)


def export_document(session: Session, *, name: str) -> str:
    """The blueprint as a YAML file."""
    return dump_yaml(get_blueprint(session, name=name).spec)


def require_publisher(user: User) -> None:
    """Publishing and importing blueprints needs the member role (viewers browse and export only)."""
    accounts_service.require_role(user, Role.member)


def store_blueprint(session: Session, *, user: User, spec: BlueprintSpec, origin: str,
                    source_project_id: int | None = None, replace: bool = False) -> BlueprintEntry:
    """Save a checked blueprint; a built-in's name is refused, a stored one is replaced only when asked."""
    require_publisher(user)
    if spec.name in builtin_blueprints():
        raise Conflict(f"name: {spec.name!r} is a built-in blueprint; choose another name.")
    document = dump_yaml(spec)
    with unit_of_work(session):
        row = session.scalar(select(Blueprint).where(Blueprint.name == spec.name))
        if row is not None and not replace:
            raise Conflict(f"name: a blueprint named {spec.name!r} exists already; choose another name or "
                           "replace it.")
        if row is None:
            row = Blueprint(name=spec.name, created_by_id=user.id)
            session.add(row)
        row.version, row.schema_version, row.document = spec.version, spec.schema_version, document
        row.title_en, row.title_ko, row.industry = spec.title.en, spec.title.ko, spec.industry
        row.task, row.origin, row.source_project_id, row.updated_at = (spec.training.task, origin,
                                                                       source_project_id, utcnow())
        session.flush()
    return _stored(row)


def import_document(session: Session, *, user: User, text: str | bytes, replace: bool = False) -> BlueprintEntry:
    """Import a blueprint file (YAML), checked strictly."""
    from mlpilot.blueprints.instantiate import check_blueprint

    require_publisher(user)
    spec = load_yaml(text, where="uploaded file")
    check_blueprint(session, spec)
    return store_blueprint(session, user=user, spec=spec, origin="imported", replace=replace)


def delete_blueprint(session: Session, *, user: User, name: str) -> None:
    """Remove a published or imported blueprint (built-ins stay); its author or an admin may."""
    require_publisher(user)
    if name in builtin_blueprints():
        raise InvalidInput(f"{name!r} is built in and cannot be deleted.")
    with unit_of_work(session):
        row = session.scalar(select(Blueprint).where(Blueprint.name == name[:100]))
        if row is None:
            raise NotFound(f"No blueprint named {name[:100]!r}.")
        if row.created_by_id != user.id and user.role != Role.admin:
            raise PermissionDenied(f"Blueprint {name!r} was stored by another user; only they or an admin may "
                                   "delete it.")
        session.delete(row)


def project_blueprint(session: Session, *, project_id: int) -> BlueprintInstance | None:
    """The blueprint a project was created from, if any."""
    return session.scalar(select(BlueprintInstance).where(BlueprintInstance.project_id == project_id))
