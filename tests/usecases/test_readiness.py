"""Data readiness checks over real profiles of small tables (datasets.profiling), and the screening scores."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from mlpilot.datasets import profiling
from mlpilot.usecases.readiness import DatasetRef, TimeSpan, assess
from mlpilot.usecases.screening import QUESTION_KEYS, quadrant, score_answers
from mlpilot.usecases.screening import assess as assess_answers
from mlpilot.usecases.service import _profile_facts, time_span

REF = DatasetRef(version_id=1, name="d", version=1)


def _facts(frame: pl.DataFrame, target: str | None, task: str | None = None):
    return _profile_facts(profiling.profile_frame(frame, target=target, task=task))


def _statuses(readiness) -> dict[str, str]:
    return {c.key: c.status for c in readiness.checks}


def test_classification_figures_and_checks() -> None:
    rng = np.random.default_rng(0)
    rows = 2000
    y = np.where(rng.random(rows) < 0.3, "churn", "stay")
    x = rng.normal(size=rows)
    x[:700] = np.nan  # 35 % of one of three columns: 11.7 % of all cells
    frame = pl.DataFrame({"x": x, "leak": y, "y": y}).with_columns(pl.col("x").fill_nan(None))
    readiness = assess(_facts(frame, "y", "classification"), dataset=REF, target="y", target_present=True,
                       time_series=False)
    counts = readiness.rows_per_class
    assert counts == {"churn": int((y == "churn").sum()), "stay": int((y == "stay").sum())}
    assert readiness.rows == rows and readiness.missing_share == round(700 / (3 * rows), 4)
    assert readiness.leakage_columns == ["leak"]
    assert _statuses(readiness) == {"rows": "pass", "label": "pass", "rows_per_class": "pass", "missing": "warn",
                                    "leakage": "warn"}
    assert readiness.ready and readiness.score == round(100 * (1 + 1 + 1 + 0.5 + 0.5) / 5)


def test_absent_label_few_rows_and_a_tiny_class_fail() -> None:
    frame = pl.DataFrame({"a": list(range(60)), "y": ["x"] * 55 + ["z"] * 5})
    missing_label = assess(_facts(frame, None), dataset=REF, target="label", target_present=False,
                           time_series=False)
    assert _statuses(missing_label)["label"] == "fail" and not missing_label.ready
    assert missing_label.rows_per_class is None
    tiny = assess(_facts(frame, "y", "classification"), dataset=REF, target="y", target_present=True,
                  time_series=False)
    assert _statuses(tiny)["rows"] == "fail" and _statuses(tiny)["rows_per_class"] == "fail"
    assert tiny.rows_per_class == {"x": 55, "z": 5}


def test_history_length_of_a_time_series() -> None:
    days = [dt.date(2022, 1, 1) + dt.timedelta(days=i) for i in range(800)]
    frame = pl.DataFrame({"day": [d.isoformat() for d in days], "load": [float(i % 50) for i in range(800)]})
    facts = _facts(frame, "load", "regression")
    assert facts.time_columns == ["day"]
    span = time_span(frame.lazy(), "day")
    assert span == TimeSpan(start=dt.datetime(2022, 1, 1), end=dt.datetime(2024, 3, 10), periods=800)
    long = assess(facts, dataset=REF, target="load", target_present=True, time_series=True, time_column="day",
                  span=span)
    assert long.history_days == 799.0 and long.history_periods == 800 and _statuses(long)["history"] == "pass"
    short = TimeSpan(start=dt.datetime(2024, 1, 1), end=dt.datetime(2024, 9, 1), periods=245)
    warn = assess(facts, dataset=REF, target="load", target_present=True, time_series=True, time_column="day",
                  span=TimeSpan(start=dt.datetime(2023, 1, 1), end=dt.datetime(2024, 1, 15), periods=380))
    assert _statuses(warn)["history"] == "warn"
    failed = assess(facts, dataset=REF, target="load", target_present=True, time_series=True, time_column="day",
                    span=short)
    assert _statuses(failed)["history"] == "fail" and not failed.ready
    no_dates = assess(facts, dataset=REF, target="load", target_present=True, time_series=True)
    assert _statuses(no_dates)["history"] == "fail"
    unreadable = time_span(pl.DataFrame({"day": ["soon", "later"]}).lazy(), "day")
    assert unreadable.start is None and unreadable.periods == 0


def test_value_feasibility_and_quadrants() -> None:
    all_yes = {key: "yes" for key in QUESTION_KEYS}
    top = assess_answers(score_answers(all_yes))
    assert (top.value_score, top.feasibility_score, top.decision) == (100, 100, "go")
    weak_data = assess_answers(score_answers(all_yes), readiness_score=40, readiness_failed=True, difficulty="hard")
    assert weak_data.feasibility_score == round(100 * (1 + 0.4) / 2) - 20
    assert weak_data.decision == "no-go" and "data_readiness" in weak_data.blocked_by
    low_value = assess_answers(score_answers({**all_yes, "important": "no", "needs_ml": "partly"}))
    assert low_value.value_score == round(100 * 3 / 6)
    assert quadrant(80, 80) == "do-first" and quadrant(80, 20) == "prepare-data"
    assert quadrant(20, 80) == "quick-win" and quadrant(20, 20) == "drop"
