"""Pure traffic/latency metrics over log frames."""

from __future__ import annotations

import datetime as dt

import pytest

from mlpilot.monitoring.metrics import compute_metrics, compute_totals, log_frame, totals_by_service

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def rows() -> list[tuple]:
    # Bucket 12:00 has three requests (one error); 12:02 has one; 12:01 is empty.
    return [
        ("a", T0 + dt.timedelta(seconds=5), 10.0, 200, 4),
        ("a", T0 + dt.timedelta(seconds=20), 20.0, 200, 1),
        ("a", T0 + dt.timedelta(seconds=50), 30.0, 400, 0),
        ("a", T0 + dt.timedelta(seconds=130), 100.0, 200, 2),
        ("b", T0 + dt.timedelta(seconds=10), 5.0, 503, 0),
    ]


def test_series_fills_empty_buckets_and_computes_percentiles() -> None:
    frame = log_frame([r for r in rows() if r[0] == "a"])
    result = compute_metrics(frame, since=T0, until=T0 + dt.timedelta(seconds=179), bucket_seconds=60)
    assert [b.requests for b in result.series] == [3, 0, 1]
    assert [b.errors for b in result.series] == [1, 0, 0]
    assert [b.rows for b in result.series] == [5, 0, 2]
    first = result.series[0]
    assert first.start == T0 and first.latency_p50_ms == 20.0
    assert first.latency_p95_ms == pytest.approx(29.0) and first.latency_p99_ms == pytest.approx(29.8)
    assert result.series[1].latency_p50_ms is None
    totals = result.totals
    assert (totals.requests, totals.errors, totals.rows, totals.error_rate) == (4, 1, 7, 0.25)
    assert totals.latency_p50_ms == 25.0
    assert result.to_dict()["series"][2]["latency_p99_ms"] == 100.0


def test_empty_frame_and_per_service_totals() -> None:
    empty = compute_metrics(log_frame([]), since=T0, until=T0 + dt.timedelta(minutes=5), bucket_seconds=60)
    assert empty.totals.requests == 0 and empty.totals.latency_p95_ms is None
    assert len(empty.series) == 6 and all(b.requests == 0 for b in empty.series)
    per_service = totals_by_service(log_frame(rows()))
    assert per_service["a"].requests == 4 and per_service["b"].errors == 1 and per_service["b"].error_rate == 1.0
    assert compute_totals(log_frame(rows())).requests == 5
