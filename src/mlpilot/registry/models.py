"""Tables of the registry domain: append-only model versions with lineage to their run and data.

The model (files, signature, metrics, lineage) never changes; its lifecycle stage does, and every stage
transition is kept as an append-only audit row.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class ModelStage(enum.StrEnum):
    staging = "staging"
    production = "production"
    archived = "archived"


class ModelVersion(Base):
    """A registered model folder; versions count up per (project, name) and are never changed."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("project_id", "name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True)
    dataset_version_id: Mapped[int | None] = mapped_column(ForeignKey("dataset_versions.id", ondelete="SET NULL"),
                                                           nullable=True)
    flavor: Mapped[str] = mapped_column(String(40))
    signature: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifact_key: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Lifecycle label (the latest StageTransition); "imported" / "exported" provenance lives in `source`.
    stage: Mapped[str] = mapped_column(String(20), default=ModelStage.staging)
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The recipe's row-wise steps applied before the model when serving and scoring (recipes.rowwise), or None.
    row_steps: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)


class StageTransition(Base):
    """One audited change of a model version's stage: who, why, when, from and to."""

    __tablename__ = "model_stage_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_stage: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Registration(enum.StrEnum):
    """Which of a project's successful runs become model versions on their own."""

    best = "best"  # a run that beats every earlier run of its target and task (the default)
    every = "every"  # every run
    manual = "manual"  # none: a person registers the run they pick


class RegistrationPolicy(Base):
    """A project's registration choice and the model name its runs are registered under (empty: the default)."""

    __tablename__ = "model_registration_policies"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20), default=Registration.best)
    model_name: Mapped[str] = mapped_column(String(200), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
