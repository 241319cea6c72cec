"""Tables of the monitoring domain: one row per inference request, written in batches by the sink."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class InferenceLog(Base):
    """What one inference request cost and how it ended (no payloads: those may hold personal data)."""

    __tablename__ = "inference_logs"
    # AUTOINCREMENT: SQLite must never reuse the id of a deleted row, as the daily rollup counts rows above a mark.
    __table_args__ = (Index("ix_inference_logs_service_ts", "service", "ts"), {"sqlite_autoincrement": True})

    # SQLite only auto-increments INTEGER primary keys; other databases get a 64-bit key.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    service: Mapped[str] = mapped_column(String(63))
    model_version: Mapped[str] = mapped_column(String(40), default="")
    ts: Mapped[dt.datetime] = mapped_column(index=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Routing label of the backend that answered ("" = the service's only model) and its role:
    # primary | canary | shadow. Shadow rows are mirrored calls, never client traffic.
    backend: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="primary")


class AlertRule(Base):
    """Fire when `metric` of `service` over the last `window_minutes` crosses `threshold` (once per cooldown)."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    service: Mapped[str] = mapped_column(String(63), index=True)
    metric: Mapped[str] = mapped_column(String(40))  # see monitoring.alerts.METRICS
    op: Mapped[str] = mapped_column(String(2), default=">")  # > or <
    threshold: Mapped[float] = mapped_column(Float)
    window_minutes: Mapped[int] = mapped_column(Integer, default=5)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=30)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fired_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    last_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AlertEvent(Base):
    """One firing of an alert rule (also published as the `alert.fired` notification event)."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(String(63))
    metric: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    fired_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ServiceCost(Base):
    """The configured price of one request of a service (for the cost view)."""

    __tablename__ = "service_costs"

    service: Mapped[str] = mapped_column(String(63), primary_key=True)
    unit_cost: Mapped[float] = mapped_column(Float, default=0.0)
    currency: Mapped[str] = mapped_column(String(8), default="USD")


class Feedback(Base):
    """Ground truth for one answered request, joined to what the model predicted (for live accuracy / RMSE)."""

    __tablename__ = "feedback"
    # AUTOINCREMENT: replaced feedback is deleted and inserted again; its new id must be above the rollup's mark.
    __table_args__ = (Index("ix_feedback_service_ts", "service", "ts"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    service: Mapped[str] = mapped_column(String(63))
    request_id: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(20))  # classification | regression
    ts: Mapped[dt.datetime] = mapped_column()  # when the prediction was made
    prediction: Mapped[str] = mapped_column(String(200))
    actual: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DailyRollup(Base):
    """Per service and UTC day: client requests, rows predicted, and classification feedback (how many, how many
    right). Kept up to date incrementally from the log and feedback rows (monitoring.rollups), so a year of
    telemetry is summed once, not on every read."""

    __tablename__ = "inference_daily"

    service: Mapped[str] = mapped_column(String(63), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    feedback: Mapped[int] = mapped_column(BigInteger, default=0)
    correct: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupMark(Base):
    """The highest inference-log (name "logs") or feedback (name "feedback") id already in the daily rollup."""

    __tablename__ = "inference_daily_marks"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
