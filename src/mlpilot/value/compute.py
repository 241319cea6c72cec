"""The arithmetic of value trees, pure (no database): periods, series from daily evidence, benefit, ROI, payback.

Formulas (docs/value.md):
- benefit of a KPI in month m: b(m) = s × (actual(m) − baseline) × value_per_unit, s = +1 when higher is better,
  −1 when lower is better, 0 for a month without evidence;
- cost in month m: every monthly cost started on or before m, plus the one-off costs paid in m (one-offs paid
  before the first month of the window count in its first month);
- ROI = (Σ b − Σ cost) / Σ cost over the window;
- payback: months from the first month with a cost until the cumulative benefit reaches the cumulative cost; when
  not reached yet and the average monthly net gain (benefit − monthly costs) is positive, it is projected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mlpilot.value.schemas import Point, Roi, RoiMonth


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_keys(first: dt.date, count: int) -> list[str]:
    """`count` month keys ("YYYY-MM") from the month of `first` on."""
    return [month_key(add_months(month_start(first), i)) for i in range(count)]


def day_keys(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class Evidence:
    """Per day (or per month, for a feed): numerator and denominator. Sums use the numerator; ratios divide."""

    ratio: bool
    by_period: Mapping[str, tuple[float, float]]


def series(evidence: Evidence, keys: Sequence[str]) -> list[Point]:
    """Actuals per period key; a month key ("YYYY-MM") adds up the days ("YYYY-MM-DD") it holds."""
    width = len(keys[0]) if keys else 0
    totals: dict[str, list[float]] = {}
    for period, (num, den) in evidence.by_period.items():
        acc = totals.setdefault(period[:width], [0.0, 0.0])
        acc[0] += num
        acc[1] += den
    points = []
    for key in keys:
        found = totals.get(key)
        if found is None:
            points.append(Point(period=key, actual=None))
        elif evidence.ratio:
            points.append(Point(period=key, actual=round(found[0] / found[1], 6) if found[1] else None))
        else:
            points.append(Point(period=key, actual=found[0]))
    return points


def monthly_benefit(points: Iterable[Point], *, baseline: float, value_per_unit: float,
                    higher_is_better: bool) -> dict[str, float]:
    sign = 1.0 if higher_is_better else -1.0
    return {p.period: sign * (p.actual - baseline) * value_per_unit for p in points if p.actual is not None}


def progress(actual: float | None, baseline: float, target: float) -> float | None:
    if actual is None or target == baseline:
        return None
    return round((actual - baseline) / (target - baseline), 4)


@dataclass(frozen=True)
class CostItem:
    kind: str  # one_off | monthly
    amount: float
    start: dt.date


def monthly_costs(costs: Sequence[CostItem], keys: Sequence[str]) -> dict[str, float]:
    result = dict.fromkeys(keys, 0.0)
    if not keys:
        return result
    first = keys[0]
    for cost in costs:
        start = month_key(cost.start)
        if cost.kind == "one_off":
            month = max(start, first)
            if month in result:
                result[month] += cost.amount
        else:
            for key in keys:
                if key >= start:
                    result[key] += cost.amount
    return result


def compute_roi(benefits: Mapping[str, float], costs: Sequence[CostItem], keys: Sequence[str], *,
                currency: str) -> Roi:
    """ROI and payback over the months `keys` from the benefit per month and the cost entries."""
    cost_by_month = monthly_costs(costs, keys)
    months, cum_b, cum_c = [], 0.0, 0.0
    for key in keys:
        benefit, cost = benefits.get(key, 0.0), cost_by_month[key]
        cum_b, cum_c = cum_b + benefit, cum_c + cost
        months.append(RoiMonth(month=key, benefit=round(benefit, 2), cost=round(cost, 2),
                               cumulative_benefit=round(cum_b, 2), cumulative_cost=round(cum_c, 2)))
    payback, projected = _payback(months, costs, keys, benefits)
    return Roi(currency=currency, total_benefit=round(cum_b, 2), total_cost=round(cum_c, 2),
               net=round(cum_b - cum_c, 2), roi=round((cum_b - cum_c) / cum_c, 4) if cum_c > 0 else None,
               payback_months=payback, payback_projected=projected, months=months)


def _payback(months: list[RoiMonth], costs: Sequence[CostItem], keys: Sequence[str],
             benefits: Mapping[str, float]) -> tuple[float | None, bool]:
    started = [i for i, m in enumerate(months) if m.cost > 0]
    if not started:
        return None, False
    first = started[0]
    for i in range(first, len(months)):
        if months[i].cumulative_benefit >= months[i].cumulative_cost:
            return float(i - first + 1), False
    observed = [benefits[k] for k in keys[first:] if k in benefits]
    running = sum(c.amount for c in costs if c.kind == "monthly")
    gain = (sum(observed) / len(observed) if observed else 0.0) - running
    if gain <= 0:
        return None, False
    deficit = months[-1].cumulative_cost - months[-1].cumulative_benefit
    return round(len(months) - first + deficit / gain, 1), True
