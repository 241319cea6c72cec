"""The arithmetic of value trees and the checks of a KPI feed, on plain values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.value.compute import CostItem, Evidence, compute_roi, month_keys, monthly_benefit, series
from mlpilot.value.feed import monthly_feed


def test_monthly_series_adds_days_and_ratios_divide() -> None:
    keys = month_keys(dt.date(2026, 11, 15), 2)
    assert keys == ["2026-11", "2026-12"]
    counts = Evidence(ratio=False, by_period={"2026-11-01": (3, 1), "2026-11-30": (4, 1)})
    assert [p.actual for p in series(counts, keys)] == [7, None]
    accuracy = Evidence(ratio=True, by_period={"2026-12-01": (8, 10), "2026-12-02": (1, 10)})
    assert [p.actual for p in series(accuracy, keys)] == [None, 0.45]
    assert [p.actual for p in series(accuracy, ["2026-12-01", "2026-12-03"])] == [0.8, None]


def test_benefit_follows_the_direction() -> None:
    points = series(Evidence(ratio=False, by_period={"2026-01": (80, 1)}), ["2026-01"])
    assert monthly_benefit(points, baseline=100, value_per_unit=1000, higher_is_better=False) == {"2026-01": 20000}
    assert monthly_benefit(points, baseline=100, value_per_unit=1000, higher_is_better=True) == {"2026-01": -20000}


def test_roi_and_payback_reached_and_projected() -> None:
    keys = ["2026-01", "2026-02", "2026-03", "2026-04"]
    costs = [CostItem("one_off", 300.0, dt.date(2025, 12, 1)), CostItem("monthly", 10.0, dt.date(2026, 1, 1))]
    reached = compute_roi({k: 110.0 for k in keys}, costs, keys, currency="KRW")
    # Costs 310, 320, 330, 340; benefit 110, 220, 330: covered in the third month.
    assert reached.total_cost == 340 and reached.total_benefit == 440 and reached.roi == round(100 / 340, 4)
    assert reached.payback_months == 3 and not reached.payback_projected
    slow = compute_roi({k: 60.0 for k in keys}, costs, keys, currency="KRW")
    # Deficit 340 − 240 = 100 after 4 months at a net 50 a month: 2 more months.
    assert slow.payback_months == 6.0 and slow.payback_projected
    losing = compute_roi({k: 5.0 for k in keys}, costs, keys, currency="KRW")
    assert losing.payback_months is None and losing.roi is not None and losing.roi < 0
    assert compute_roi({}, [], keys, currency="KRW").roi is None


def test_feed_months_and_values() -> None:
    frame = pl.DataFrame({"month": ["2026-01", "2026-02-01", "2026-03"], "churned": [120, 100, 90]})
    assert monthly_feed([frame], month_column="month", value_column="churned") == {
        "2026-01": 120.0, "2026-02": 100.0, "2026-03": 90.0}
    dates = pl.DataFrame({"m": [dt.date(2026, 1, 1), dt.date(2026, 2, 1)], "v": [1.5, 2.5]})
    assert monthly_feed([dates], month_column="m", value_column="v") == {"2026-01": 1.5, "2026-02": 2.5}


@pytest.mark.parametrize(("frame", "message"), [
    (pl.DataFrame({"month": ["2026-01", "2026-04"], "churned": [1, 2]}), "missing month(s) 2026-02, 2026-03"),
    (pl.DataFrame({"month": ["2026-01", "2026-02"], "churned": ["many", "few"]}), "'churned' holds String"),
    (pl.DataFrame({"month": ["2026-01", "last spring"], "churned": [1, 2]}), "row 2: 'last spring' is not a month"),
    (pl.DataFrame({"month": ["2026-01", "2026-01"], "churned": [1, 2]}), "month 2026-01 appears more than once"),
    (pl.DataFrame({"month": ["2026-01", "2026-02"], "churned": [1, None]}), "'churned' is empty in row(s) 2"),
    (pl.DataFrame({"mon": ["2026-01"], "churned": [1]}), "no column 'month'; its columns are mon, churned"),
])
def test_bad_feeds_name_the_column_or_months(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        monthly_feed([frame], month_column="month", value_column="churned")
    assert message in caught.value.detail
