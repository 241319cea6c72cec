"""Tables of the feeder domain: pipelines and the history of their runs."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mlpilot.core.db import Base, utcnow


class RunStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


ACTIVE = (RunStatus.queued, RunStatus.running)


class Pipeline(Base):
    """Connection → optional recipe → target dataset, on a cron schedule, with trigger rules."""

    __tablename__ = "feeder_pipelines"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    connection_id: Mapped[int] = mapped_column(Integer, index=True)
    recipe_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dataset_name: Mapped[str] = mapped_column(String(200))
    # "append": each run adds the new rows to the latest version; "replace": each run's rows are the version.
    mode: Mapped[str] = mapped_column(String(20), default="append")
    schedule: Mapped[str | None] = mapped_column(String(120), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    triggers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The scheduler claims a slot by moving next_run_at forward with a conditional UPDATE (once per slot).
    next_run_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, index=True)
    last_scheduled_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    watermark: Mapped[str | None] = mapped_column(String(500), nullable=True)
    rows_since_training: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    runs: Mapped[list[PipelineRun]] = relationship(back_populates="pipeline", cascade="all, delete-orphan",
                                                   order_by="PipelineRun.id.desc()")


class PipelineRun(Base):
    """One execution of a pipeline (a `feeder.run` job): what it read, wrote and triggered, or why it failed."""

    __tablename__ = "feeder_pipeline_runs"
    # A schedule slot starts at most one run, even if two schedulers race or a restart replays a tick.
    __table_args__ = (UniqueConstraint("pipeline_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("feeder_pipelines.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(String(20), default="manual")
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.queued, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    dataset_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    training_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    watermark: Mapped[str | None] = mapped_column(String(500), nullable=True)
    message: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    pipeline: Mapped[Pipeline] = relationship(back_populates="runs")
