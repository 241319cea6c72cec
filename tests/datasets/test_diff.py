"""Diffs between two frames: schema changes, row counts and per-column statistic shifts."""

from __future__ import annotations

import math

import polars as pl

from mlpilot.datasets.diff import diff_frames, summarize


def test_summary_counts_missing_distinct_moments_and_top_values() -> None:
    frame = pl.DataFrame({
        "amount": [1.0, 3.0, None, float("nan")],
        "city": ["서울", "서울", "부산", None],
        "n": [1, 2, 2, None],
    })
    summary = summarize(frame)
    assert summary.rows == 4 and summary.schema == {"amount": "Float64", "city": "String", "n": "Int64"}
    amount, city, n = (summary.columns[c] for c in ("amount", "city", "n"))
    assert amount["missing_pct"] == 50.0 and amount["mean"] == 2.0 and math.isclose(amount["std"], math.sqrt(2))
    assert city["missing_pct"] == 25.0 and city["distinct"] == 2 and city["mean"] is None
    assert city["top_values"] == [{"value": "서울", "count": 2, "pct": 50.0},
                                  {"value": "부산", "count": 1, "pct": 25.0}]
    assert n["distinct"] == 2 and n["top_values"] is None
    lazy = summarize(frame.lazy())
    assert lazy.rows == summary.rows and lazy.schema == summary.schema
    for name, stats in summary.columns.items():
        for key, value in stats.items():
            if key == "distinct" and summary.schema[name].startswith("Float"):
                continue  # distinct counts of floats are estimates in the streaming engine
            other = lazy.columns[name][key]
            # Float aggregations may differ in the last bit between the eager and the streaming engine.
            if isinstance(value, float):
                assert math.isclose(other, value, rel_tol=1e-12), (name, key)
            else:
                assert other == value, (name, key)


def test_diff_reports_schema_changes_rows_and_shifts() -> None:
    a = pl.DataFrame({
        "id": [1, 2, 3, 4],
        "score": [10.0, 11.0, 9.0, 10.0],
        "plan": ["basic", "basic", "pro", "basic"],
        "code": [1, 2, 3, 4],
        "legacy": ["x", "y", "z", "w"],
    })
    b = pl.DataFrame({
        "id": [1, 2, 3, 4, 5, 6],
        "score": [20.0, 21.0, None, None, 19.0, 20.0],
        "plan": ["basic", "enterprise", "enterprise", "basic", "basic", "enterprise"],
        "code": ["1", "2", "3", "4", "5", "6"],
        "region": ["kr", "kr", "jp", "kr", "kr", "jp"],
    })
    diff = diff_frames(a, b.lazy())
    assert (diff["rows_a"], diff["rows_b"], diff["rows_change"], diff["rows_change_pct"]) == (4, 6, 2, 50.0)
    assert (diff["columns_a"], diff["columns_b"]) == (5, 5)
    assert diff["added"] == [{"name": "region", "dtype_b": "String"}]
    assert diff["removed"] == [{"name": "legacy", "dtype_a": "String"}]
    assert diff["type_changed"] == [{"name": "code", "dtype_a": "Int64", "dtype_b": "String"}]
    shifts = {s["name"]: s for s in diff["columns"]}
    assert set(shifts) == {"id", "score", "plan", "code"}
    score = shifts["score"]
    assert score["missing_pct_a"] == 0.0 and math.isclose(score["missing_pct_b"], 100 / 3, rel_tol=1e-4)
    assert score["mean_change"] == 10.0 and score["mean_shift_std"] > 10 and score["notable"]
    plan = shifts["plan"]
    assert plan["new_top_values"] == ["enterprise"] and plan["gone_top_values"] == ["pro"] and plan["notable"]
    assert plan["distinct_a"] == 2 and plan["distinct_b"] == 2
    assert shifts["code"]["notable"] and shifts["code"]["mean_b"] is None


def test_identical_frames_have_no_notable_shift() -> None:
    frame = pl.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    diff = diff_frames(frame, frame)
    assert diff["rows_change"] == 0 and not diff["added"] and not diff["removed"] and not diff["type_changed"]
    assert not any(s["notable"] for s in diff["columns"])
    empty = frame.clear()
    assert diff_frames(empty, frame)["rows_change_pct"] is None
