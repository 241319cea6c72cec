"""Tables of the training domain: experiments, runs (one engine fitted on one dataset version) and the
external HTTP engines a project may score next to its own models."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class RunStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Experiment(Base):
    """A named group of runs in a project (e.g. one question asked of the data, tried with several engines)."""

    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_experiments_project_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Run(Base):
    """A run: its inputs are fixed at creation; the job fills in the outcome and the test-set evaluation."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    experiment_id: Mapped[int | None] = mapped_column(ForeignKey("experiments.id", ondelete="SET NULL"),
                                                      nullable=True, index=True)
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="RESTRICT"),
                                                    index=True)
    target: Mapped[str] = mapped_column(String(300))
    task: Mapped[str] = mapped_column(String(20))
    engine: Mapped[str] = mapped_column(String(80))
    # The metric asked for (None = the task's default) and the column fairness is measured over.
    metric: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sensitive_column: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # The class fairness treats as the favourable outcome (None = the last class).
    positive_class: Mapped[str | None] = mapped_column(String(300), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Test-split metrics (the ranking basis); validation metrics of the engine itself and per-fold ones.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    validation_metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fold_metrics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Confusion matrix, calibration, residuals, importance, SHAP and fairness on the held-out test split.
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    library_versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    logs: Mapped[str] = mapped_column(Text, default="")
    primary_metric: Mapped[str | None] = mapped_column(String(40), nullable=True)
    primary_metric_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.queued, index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    time_budget_s: Mapped[float] = mapped_column(Float)
    artifact_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The saved model's flavor and input contract, kept so the registry needs no store access.
    flavor: Mapped[str | None] = mapped_column(String(40), nullable=True)
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class ExternalEngine(Base):
    """A vendor model reached over HTTP: URL and request/response mapping in `config`, secret headers encrypted."""

    __tablename__ = "external_engines"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_external_engines_project_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets_encrypted: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
