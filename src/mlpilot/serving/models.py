"""Tables of the serving domain: the Service, its backends and its append-only change history (the audit).

A service has a stable name and input/output contract; behind it sit one or more backends (a model version
or an external engine over HTTP). Its traffic policy says who answers: the primary alone (single), the
primary and a candidate by weight (canary), or the primary while the candidate gets a mirrored copy (shadow).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mlpilot.core.db import Base, utcnow


class ServiceState(enum.StrEnum):
    deployed = "deployed"
    stopped = "stopped"


class DeploymentAction(enum.StrEnum):
    deploy = "deploy"
    update = "update"
    stop = "stop"
    start = "start"
    attach = "attach"
    canary = "canary"
    shadow = "shadow"
    single = "single"
    promote = "promote"
    rollback = "rollback"


class TrafficPolicy(enum.StrEnum):
    single = "single"
    canary = "canary"
    shadow = "shadow"


class BackendKind(enum.StrEnum):
    model = "model"
    external = "external"


class Service(Base):
    """A named inference endpoint of a project; callers keep its name while the model behind it changes."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The ASCII name in the endpoint URLs (/v2/models/{name}); `display_name` is what people named it (any script).
    name: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    # The primary backend's model version (None when the primary is an external engine).
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"), index=True, nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=ServiceState.deployed)
    # The input/output contract clients rely on (a Signature dict); fixed when the service is created.
    contract: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy: Mapped[str] = mapped_column(String(20), default=TrafficPolicy.single)
    # Share of requests (0..1) the candidate answers under the canary policy.
    canary_weight: Mapped[float] = mapped_column(Float, default=0.0)
    # Backend ids (service_backends.id); plain integers to avoid a foreign-key cycle with service_backends.
    primary_backend_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    candidate_backend_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    previous_primary_backend_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    @property
    def label(self) -> str:
        """The name people gave the service (Korean stays Korean); the ASCII name when they gave no other."""
        return self.display_name or self.name

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="Deployment.id.desc()"
    )


class ServiceBackend(Base):
    """Something that can answer a service's requests: a model version or an external HTTP engine."""

    __tablename__ = "service_backends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"), nullable=True)
    # External engines: name, url, headers, timeout, request template and response mapping (see routing).
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    label: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Deployment(Base):
    """One audited change to a service (who, why, when, before/after): deploy, switch, policy, promote, stop."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    previous_model_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Service routing state before and after the change: policy, primary, candidate, weight (backend labels).
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    service: Mapped[Service] = relationship(back_populates="deployments")
