"""Tables of the value domain: the nodes of a project's value tree and the costs invested in the project."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class NodeKind(enum.StrEnum):
    goal = "goal"
    driver = "driver"
    kpi = "kpi"


class Direction(enum.StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class KpiSource(enum.StrEnum):
    """Where a KPI's actuals come from: mlpilot's own evidence, or a business feed read through a connection."""

    live_accuracy = "live_accuracy"  # share of a service's predictions confirmed right by feedback
    requests = "requests"  # client requests a service answered
    predictions = "predictions"  # rows a service predicted
    scoring_runs = "scoring_runs"  # batch scoring runs of the project that succeeded
    scoring_rows = "scoring_rows"  # rows those runs scored
    feed = "feed"  # a month column and a value column of a connection's table


SERVICE_SOURCES = (KpiSource.live_accuracy, KpiSource.requests, KpiSource.predictions)


class CostKind(enum.StrEnum):
    one_off = "one_off"
    monthly = "monthly"


class ValueNode(Base):
    __tablename__ = "value_nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("value_nodes.id", ondelete="CASCADE"), nullable=True,
                                                  index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # KPI nodes only (null on goals and drivers).
    baseline: Mapped[float | None] = mapped_column(Float, nullable=True)
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(40), default="")
    value_per_unit: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    direction: Mapped[str] = mapped_column(String(6), default=Direction.HIGHER)
    source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    service_name: Mapped[str | None] = mapped_column(String(63), nullable=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="SET NULL"),
                                                      nullable=True)
    feed_month_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    feed_value_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ValueCost(Base):
    """Money invested in the project: once in `start_month`, or every month from `start_month` on."""

    __tablename__ = "value_costs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    start_month: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
