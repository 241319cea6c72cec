"""Tables of the projects domain."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mlpilot.core.db import Base, utcnow


class Stage(enum.StrEnum):
    discover = "discover"
    design = "design"
    data = "data"
    build = "build"
    deploy = "deploy"
    operate = "operate"


STAGES = list(Stage)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    client: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    usecase_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.discover)
    # The newest screening's verdict (go / no-go), kept here so every tier (training) can read the build gate.
    screening_decision: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # An admin let a no-go project build anyway; cleared by the next screening. The reason is in BuildGateChange.
    build_override: Mapped[bool] = mapped_column(default=False)
    # Set while the project is archived (read-only for builds); the reason is in ProjectArchiveChange.
    archived_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    members: Mapped[list[ProjectMember]] = relationship(back_populates="project", cascade="all, delete-orphan")
    stage_events: Mapped[list[StageEvent]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="StageEvent.id"
    )


class ProjectMember(Base):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    responsibility: Mapped[str] = mapped_column(String(120), default="")
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="members")


class StageEvent(Base):
    """When a project entered a stage, and who moved it: the stage timeline."""

    __tablename__ = "project_stage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="stage_events")


class BuildGateChange(Base):
    """One audited change of a project's build gate: a screening verdict, or an admin's override with its reason."""

    __tablename__ = "project_build_gate_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str | None] = mapped_column(String(10), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ProjectArchiveChange(Base):
    """One audited archive or restore of a project: who, why, when."""

    __tablename__ = "project_archive_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # archive | restore
    reason: Mapped[str] = mapped_column(String(500), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
