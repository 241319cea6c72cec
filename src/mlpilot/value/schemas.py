"""API shapes of the value domain: tree nodes and costs in, the typed value summary out (reports read it too)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel
from mlpilot.value.models import CostKind, Direction, KpiSource, NodeKind

# Numbers and ids stay far from float overflow and 32-bit keys: a bad value is a 422, never a 500.
BOUND, MAX_ID = 1e15, 2**31 - 1
Currency = Field("KRW", pattern=r"^[A-Z]{3}$", description="ISO 4217 code, KRW by default.")


class NodeCreate(InputModel):
    kind: NodeKind
    parent_id: int | None = Field(None, ge=1, le=MAX_ID)
    name_ko: str = Field("", max_length=200)
    name_en: str = Field("", max_length=200)
    baseline: float | None = Field(None, ge=-BOUND, le=BOUND, allow_inf_nan=False)
    target: float | None = Field(None, ge=-BOUND, le=BOUND, allow_inf_nan=False)
    unit: str = Field("", max_length=40)
    value_per_unit: float | None = Field(None, ge=-BOUND, le=BOUND, allow_inf_nan=False,
                                         description="Money per unit of the KPI.")
    currency: str = Currency
    direction: Direction = Direction.HIGHER
    source: KpiSource | None = None
    service_name: str | None = Field(None, max_length=63)
    connection_id: int | None = Field(None, ge=1, le=MAX_ID)
    feed_month_column: str | None = Field(None, max_length=200)
    feed_value_column: str | None = Field(None, max_length=200)


class NodeUpdate(InputModel):
    """Fields to change; `parent_id` moves the node (a move that would make a cycle is refused)."""

    parent_id: int | None = Field(None, ge=1, le=MAX_ID)
    name_ko: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    baseline: float | None = Field(None, ge=-BOUND, le=BOUND, allow_inf_nan=False)
    target: float | None = Field(None, ge=-BOUND, le=BOUND, allow_inf_nan=False)
    value_per_unit: float | None = Field(None, ge=-BOUND, le=BOUND, allow_inf_nan=False)


class NodeRead(ReadModel):
    id: int
    project_id: int
    parent_id: int | None
    kind: NodeKind
    name_ko: str
    name_en: str
    baseline: float | None
    target: float | None
    unit: str
    value_per_unit: float | None
    currency: str
    direction: Direction
    source: KpiSource | None
    service_name: str | None
    connection_id: int | None
    feed_month_column: str | None
    feed_value_column: str | None


class CostCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    kind: CostKind
    amount: float = Field(ge=0, le=BOUND, allow_inf_nan=False)
    currency: str = Currency
    start_month: dt.date = Field(description="Any day of the month the cost starts (one-off: is paid).")


class CostRead(ReadModel):
    id: int
    project_id: int
    name: str
    kind: CostKind
    amount: float
    currency: str
    start_month: dt.date


class Point(BaseModel):
    """One period ("YYYY-MM" or "YYYY-MM-DD") and the KPI's actual in it (null: no evidence that period)."""

    period: str
    actual: float | None


class KpiValue(BaseModel):
    node_id: int
    name_ko: str
    name_en: str
    unit: str
    source: KpiSource
    direction: Direction
    baseline: float
    target: float
    value_per_unit: float
    currency: str
    actual: float | None = Field(description="The latest month's actual.")
    progress: float | None = Field(description="(actual − baseline) / (target − baseline) of the latest month.")
    benefit: float = Field(description="Σ over the months of direction × (actual − baseline) × value per unit.")
    monthly: list[Point]
    daily: list[Point]
    error: str | None = Field(None, description="Why actuals could not be read (a bad feed, a missing service).")


class NodeValue(BaseModel):
    """A node of the tree with the benefit of the KPIs under it (itself, for a KPI)."""

    node_id: int
    parent_id: int | None
    kind: NodeKind
    name_ko: str
    name_en: str
    depth: int
    benefit: float


class RoiMonth(BaseModel):
    month: str
    benefit: float
    cost: float
    cumulative_benefit: float
    cumulative_cost: float


class Roi(BaseModel):
    currency: str
    total_benefit: float
    total_cost: float
    net: float
    roi: float | None = Field(description="net / total cost; null while nothing was invested.")
    payback_months: float | None = Field(description="Months from the first cost until the benefit covers the costs.")
    payback_projected: bool = Field(description="True when payback is extrapolated from the average monthly net gain.")
    months: list[RoiMonth]


class ValueSummary(BaseModel):
    project_id: int
    first_month: str
    last_month: str
    nodes: list[NodeValue]
    kpis: list[KpiValue]
    roi: Roi
