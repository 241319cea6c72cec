"""Laying out series on a regular grid: frequency inference, repairs and every bad-input message."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.training.forecasting.data import build_panel, to_time_values


def monthly(ids: dict[str, int], start: datetime = datetime(2015, 1, 1)) -> pl.DataFrame:
    parts = []
    for name, length in ids.items():
        times = pl.datetime_range(start, datetime(2100, 1, 1), "1mo", eager=True).head(length)
        parts.append(pl.DataFrame({"id": [name] * length, "t": times, "y": np.arange(length, dtype=float) + 1}))
    return pl.concat(parts)


def panel(frame: pl.DataFrame, horizon: int = 3, id_column: str | None = "id"):  # noqa: ANN201
    return build_panel(frame, target="y", time_column="t", id_column=id_column, horizon=horizon)


def test_monthly_series_of_different_lengths_are_right_aligned_and_continue_their_own_calendar() -> None:
    p = panel(monthly({"a": 24, "b": 10}))
    assert p.axis.frequency.label() == "monthly" and p.axis.frequency.season_length() == 12
    assert p.y.shape == (2, 24) and list(p.lengths) == [24, 10]
    assert np.isnan(p.y[1, :14]).all() and p.y[1, -1] == 10
    nxt = to_time_values(p.axis, p.times(np.arange(1, 3))).to_list()
    assert nxt == [datetime(2017, 1, 1), datetime(2017, 2, 1), datetime(2015, 11, 1), datetime(2015, 12, 1)]


@pytest.mark.parametrize(("interval", "label", "season"), [("1h", "hourly", 24), ("1d", "daily", 7),
                                                           ("1w", "weekly", 52), ("3mo", "quarterly", 4),
                                                           ("1y", "yearly", 1), ("15m", "15min", 96)])
def test_frequencies_are_inferred(interval: str, label: str, season: int) -> None:
    times = pl.datetime_range(datetime(2000, 1, 1), datetime(2200, 1, 1), interval, eager=True).head(40)
    p = panel(pl.DataFrame({"t": times, "y": np.ones(40)}), id_column=None)
    assert p.axis.frequency.label() == label and p.axis.frequency.season_length() == season


def test_month_end_dates_and_integer_times_round_trip() -> None:
    ends = pl.date_range(date(2020, 1, 1), date(2022, 12, 1), "1mo", eager=True).dt.month_end()
    p = panel(pl.DataFrame({"t": ends, "y": np.arange(36.0)}), id_column=None)
    assert to_time_values(p.axis, p.times(np.arange(1, 3))).to_list() == [date(2023, 1, 31), date(2023, 2, 28)]
    years = pl.DataFrame({"t": list(range(1990, 2020, 2)), "y": np.arange(15.0)})
    p = panel(years, id_column=None)
    assert to_time_values(p.axis, p.times(np.arange(1, 3))).to_list() == [2020, 2022]


def test_gaps_are_filled_by_interpolation_and_reported() -> None:
    frame = monthly({"a": 24, "b": 24}).filter(~((pl.col("id") == "b") & pl.col("y").is_in([5.0, 6.0])))
    p = panel(frame)
    assert p.y[1, 4] == pytest.approx(5.0) and p.y[1, 5] == pytest.approx(6.0)
    assert "Filled 2 missing step(s) in 1 series" in p.warnings[0] and "'b'" in p.warnings[0]


def test_too_many_gaps_is_an_error_naming_the_series() -> None:
    frame = monthly({"a": 24, "b": 24}).filter(~((pl.col("id") == "b") & (pl.col("y") % 3 == 0)))
    with pytest.raises(InvalidInput, match="Series 'b' misses 7 of its 23 monthly steps"):
        panel(frame)


def test_duplicate_timestamps_name_the_series_and_the_repair() -> None:
    frame = monthly({"a": 12, "b": 12})
    frame = pl.concat([frame, frame.filter(pl.col("id") == "b").head(2)])
    with pytest.raises(InvalidInput, match=r"Duplicate timestamps in series 'b' \(2 in all\).*Aggregate"):
        panel(frame)


def test_mixed_and_irregular_frequencies_are_errors() -> None:
    daily = pl.DataFrame({"id": ["d"] * 30, "t": pl.datetime_range(datetime(2020, 1, 1), datetime(2020, 1, 30),
                                                                     "1d", eager=True), "y": np.ones(30)})
    hourly = pl.DataFrame({"id": ["h"] * 20, "t": pl.datetime_range(datetime(2020, 1, 1), datetime(2020, 1, 1, 19),
                                                                      "1h", eager=True), "y": np.ones(20)})
    with pytest.raises(InvalidInput, match="mixed frequencies: most step by .* but 'h' step by"):
        panel(pl.concat([daily, daily.with_columns(id=pl.lit("e")), hourly]))
    shifted = daily.with_columns(t=pl.when(pl.col("y").cum_sum() == 10).then(pl.col("t") + pl.duration(hours=5))
                                 .otherwise(pl.col("t")))
    with pytest.raises(InvalidInput, match="Series 'd' are irregular: 1 timestamp"):
        panel(shifted)


def test_series_shorter_than_the_horizon_are_named_with_their_length() -> None:
    with pytest.raises(InvalidInput, match=r"1 series are shorter than the horizon of 6.*'b' \(4 points\)"):
        panel(monthly({"a": 30, "b": 4}), horizon=6)


def test_bad_columns_give_clear_messages() -> None:
    frame = monthly({"a": 12})
    with pytest.raises(InvalidInput, match="time column 'when' is not in the data"):
        build_panel(frame, target="y", time_column="when", id_column="id", horizon=2)
    with pytest.raises(InvalidInput, match="Target column 'id' must be numeric"):
        build_panel(frame, target="id", time_column="t", id_column=None, horizon=2)
    with pytest.raises(InvalidInput, match="Covariate column 'note' must be numeric"):
        panel(frame.with_columns(note=pl.lit("x")))
    with pytest.raises(InvalidInput, match="Time column 't' has text that is not a date"):
        panel(frame.with_columns(t=pl.lit("soon")))


def test_zoned_hourly_data_across_a_dst_change_is_regular_in_utc_and_comes_back_zoned() -> None:
    utc = pl.datetime_range(datetime(2024, 10, 26, 12), datetime(2024, 10, 28), "1h", eager=True,
                            time_zone="UTC")
    local = utc.dt.convert_time_zone("Europe/Berlin")  # 27 October has 25 local hours
    p = panel(pl.DataFrame({"t": local, "y": np.arange(len(local), dtype=float)}), id_column=None)
    assert p.axis.utc and p.axis.frequency.label() == "hourly" and not p.warnings
    nxt = to_time_values(p.axis, p.times(np.arange(1, 3)))
    assert str(nxt.dtype.time_zone) == "Europe/Berlin"  # type: ignore[attr-defined]
    assert nxt.dt.convert_time_zone("UTC").to_list()[0] == utc[-1] + timedelta(hours=1)


def test_naive_local_times_with_a_repeated_dst_hour_explain_the_duplicate() -> None:
    local = pl.datetime_range(datetime(2024, 10, 26, 12), datetime(2024, 10, 28), "1h", eager=True,
                              time_zone="Europe/Berlin").dt.replace_time_zone(None)
    with pytest.raises(InvalidInput, match="daylight saving ends, so give such a time column its time zone"):
        panel(pl.DataFrame({"t": local, "y": np.arange(len(local), dtype=float)}), id_column=None)


def test_zoned_daily_data_keeps_the_wall_clock() -> None:
    days = pl.datetime_range(datetime(2024, 3, 20), datetime(2024, 4, 10), "1d", eager=True, time_zone="Europe/Berlin")
    p = panel(pl.DataFrame({"t": days, "y": np.arange(len(days), dtype=float)}), id_column=None)
    assert not p.axis.utc and p.axis.frequency.label() == "daily"
    assert to_time_values(p.axis, p.times(np.array([1]))).dt.hour().to_list() == [0]


def test_thousands_of_series_are_laid_out_without_a_loop_per_row() -> None:
    n, length = 3000, 30
    frame = pl.DataFrame({"id": np.repeat(np.arange(n), length),
                          "t": np.tile(np.arange(length), n), "y": np.random.default_rng(0).normal(size=n * length)})
    p = panel(frame)
    assert p.y.shape == (n, length) and p.ids[:3] == ["0", "1", "10"]
