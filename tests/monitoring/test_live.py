"""Live quality (feedback joined to predictions) and live drift over sampled windows: pure computation."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.monitoring.live import (
    PREDICTION_COLUMN,
    LiveSample,
    PredictionLog,
    Reservoir,
    join_feedback,
    quality_by_window,
    window_drift,
    window_start,
)

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def test_prediction_log_is_bounded_and_joins_feedback() -> None:
    log = PredictionLog(capacity=3)
    for i in range(5):
        log.add("churn", f"r{i}", T0 + dt.timedelta(minutes=i), "yes" if i % 2 else "no")
    assert len(log) == 3 and log.evicted == 2 and log.get("churn", "r0") is None
    matched, unknown = join_feedback(log, "churn", [{"request_id": "r3", "actual": "yes"},
                                                    {"request_id": "r4", "actual": "yes"},
                                                    {"request_id": "r0", "actual": "no"}])
    assert [(p, a) for _, p, a in matched] == [("yes", "yes"), ("no", "yes")] and unknown == ["r0"]
    with pytest.raises(InvalidInput, match="needs both 'request_id' and 'actual'"):
        join_feedback(log, "churn", [{"request_id": "r3"}])


def test_quality_by_window_classification_and_regression() -> None:
    hour = dt.timedelta(hours=1)
    pairs = [(T0, "a", "a"), (T0 + dt.timedelta(minutes=5), "a", "b"), (T0 + hour, "b", "b")]
    rows = quality_by_window(pairs, task="classification", window_s=3600)
    assert [(r["window_start"], r["count"], r["accuracy"]) for r in rows] == [(T0, 2, 0.5), (T0 + hour, 1, 1.0)]
    reg = quality_by_window([(T0, 3.0, 1.0), (T0, 1.0, 1.0)], task="regression", window_s=60)
    assert reg[0]["mae"] == 1.0 and reg[0]["rmse"] == pytest.approx(2 ** 0.5)
    with pytest.raises(InvalidInput, match="must be numbers"):
        quality_by_window([(T0, "x", 1.0)], task="regression", window_s=60)
    with pytest.raises(InvalidInput, match="Unknown task"):
        quality_by_window([], task="ranking", window_s=60)
    with pytest.raises(InvalidInput, match="positive number of seconds"):
        window_start(T0, 0)


def test_reservoir_is_bounded_and_uniform_enough() -> None:
    reservoir = Reservoir(100, seed=1)
    for i in range(10_000):
        reservoir.add(i)
    assert reservoir.seen == 10_000 and len(reservoir.items) == 100
    # A uniform sample of 0..9999 has a mean near 5000 (not stuck on the first 100 items).
    assert 3500 < sum(reservoir.items) / 100 < 6500


def traffic(sample: LiveSample, start: dt.datetime, *, shift: float, n: int, rng: random.Random) -> None:
    rows = [{"tenure": rng.gauss(20 + shift, 5), "plan": rng.choice(["basic", "pro"] if not shift else ["pro"])}
            for _ in range(n)]
    sample.add("churn", start, rows, [1 if r["tenure"] > 25 else 0 for r in rows])


def test_shifted_traffic_is_flagged_per_feature_and_on_the_prediction() -> None:
    rng = random.Random(7)
    sample = LiveSample(capacity=300, window_s=3600, seed=3)
    traffic(sample, T0, shift=0.0, n=1000, rng=rng)
    traffic(sample, T0 + dt.timedelta(hours=1), shift=0.0, n=1000, rng=rng)
    traffic(sample, T0 + dt.timedelta(hours=2), shift=15.0, n=1000, rng=rng)
    traffic(sample, T0 + dt.timedelta(hours=3), shift=15.0, n=5, rng=rng)
    frames = sample.frames("churn")
    assert [(seen, frame.height) for _, seen, frame in frames] == [(1000, 300), (1000, 300), (1000, 300), (5, 5)]
    same, shifted, tiny = window_drift(sample, "churn")  # reference: the first window
    assert same["drift"] is False and same["drifted_columns"] == [] and same["prediction_drift"] is False
    assert shifted["drift"] is True and set(shifted["drifted_columns"]) == {"tenure", "plan"}
    assert shifted["prediction_drift"] is True
    assert shifted["columns"]["tenure"]["psi"] > 0.2
    assert tiny["drift"] is None and tiny["sampled"] == 5
    # A reference from training data (no prediction column): features only.
    reference = pl.DataFrame({"tenure": [rng.gauss(20, 5) for _ in range(500)],
                              "plan": [rng.choice(["basic", "pro"]) for _ in range(500)]})
    results = window_drift(sample, "churn", reference=reference)
    assert [r["drift"] for r in results] == [False, False, True, None]
    assert results[2]["prediction_drift"] is None and PREDICTION_COLUMN not in results[2]["columns"]


def test_sample_keeps_a_bounded_number_of_windows() -> None:
    sample = LiveSample(capacity=5, window_s=60, max_windows=2)
    for minute in range(4):
        sample.add("s", T0 + dt.timedelta(minutes=minute), [{"x": 1.0}], [0])
    assert [start for start, _, _ in sample.frames("s")] == [T0 + dt.timedelta(minutes=2), T0 + dt.timedelta(minutes=3)]
    assert sample.frames("unknown") == [] and window_drift(sample, "unknown") == []
