"""Tables of the serving domain: the Service and its append-only deployment history."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mlpilot.core.db import Base, utcnow


class ServiceState(enum.StrEnum):
    deployed = "deployed"
    stopped = "stopped"


class DeploymentAction(enum.StrEnum):
    deploy = "deploy"
    update = "update"
    stop = "stop"


class Service(Base):
    """A named inference endpoint of a project; callers keep its name while the model behind it changes."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ServiceState.deployed)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="Deployment.id.desc()"
    )


class Deployment(Base):
    """One change to a service: deployed, switched to another model version, or stopped."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int] = mapped_column(Integer)
    previous_model_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship(back_populates="deployments")
