"""Tables of the monitoring domain: one row per inference request, written in batches by the sink."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base


class InferenceLog(Base):
    """What one inference request cost and how it ended (no payloads: those may hold personal data)."""

    __tablename__ = "inference_logs"
    __table_args__ = (Index("ix_inference_logs_service_ts", "service", "ts"),)

    # SQLite only auto-increments INTEGER primary keys; other databases get a 64-bit key.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    service: Mapped[str] = mapped_column(String(63))
    model_version: Mapped[str] = mapped_column(String(40), default="")
    ts: Mapped[dt.datetime] = mapped_column(index=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
