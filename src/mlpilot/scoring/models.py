"""Tables of batch scoring: one row per scoring run (its spec, state and progress; checkpoints live in the output)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class ScoringRun(Base):
    __tablename__ = "scoring_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # Names this run's checkpoints in the output (unique across installations sharing one warehouse).
    run_key: Mapped[str] = mapped_column(String(40), default=lambda: uuid.uuid4().hex, unique=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True)
    model_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # Scoring through a deployed service: its primary backend when the run starts does the scoring (pinned for
    # resumes, so one run never mixes two models); `scored_by` records which backend that was.
    service_name: Mapped[str | None] = mapped_column(String(63), nullable=True)
    scored_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[dict[str, Any]] = mapped_column(JSON)
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    keep: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    chunk_rows: Mapped[int] = mapped_column(Integer, default=50_000)
    state: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|succeeded|failed
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
