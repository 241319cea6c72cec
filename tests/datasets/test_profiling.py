"""The profiler: statistics, Korean text, correlations, duplicates, and the full / streaming / sampled modes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.datasets.profiling import profile_frame


def _columns(profile: dict) -> dict[str, dict]:
    return {c["name"]: c for c in profile["column_profiles"]}


def _mixed_frame(rows: int = 2_000, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    return pl.DataFrame({
        "x": x,
        "double": 2 * x + 1,
        "neg": -x,
        "count": rng.integers(0, 1_000, rows),
        "city": rng.choice(["서울", "부산", "대구"], rows, p=[0.5, 0.3, 0.2]),
        "y": rng.choice(["a", "b"], rows),
    }).with_columns(pl.when(pl.int_range(pl.len()) % 10 == 0).then(None).otherwise(pl.col("x")).alias("x"))


def test_statistics_are_exact_and_json_safe() -> None:
    frame = pl.DataFrame({"v": [1.0, 2.0, 3.0, 4.0, None, float("nan")], "k": [1, 1, 2, 2, 3, 3]})
    profile = profile_frame(frame)
    json.dumps(profile, allow_nan=False)
    v = _columns(profile)["v"]
    assert profile["mode"] == "full" and profile["sample_rows"] is None and profile["sampled_statistics"] == []
    assert (v["missing"], v["distinct"], v["min"], v["max"], v["mean"]) == (2, 4, 1.0, 4.0, 2.5)
    assert v["quantiles"]["p50"] == pytest.approx(2.5) and v["quantiles"]["p25"] == pytest.approx(1.75)
    assert v["histogram"]["counts"][0] == 1 and v["histogram"]["counts"][-1] == 1 and sum(v["histogram"]["counts"]) == 4
    k = _columns(profile)["k"]
    assert k["distinct"] == 3 and k["distinct_exact"] and [t["count"] for t in k["top_values"]] == [2, 2, 2]


def test_korean_text_is_counted_in_characters() -> None:
    frame = pl.DataFrame({"memo": ["서울", "배송 지연 문의", "서울", None, "abc"]})
    memo = _columns(profile_frame(frame))["memo"]
    assert memo["text_length"] == {"min": 2, "max": 8, "mean": 3.75}
    assert memo["top_values"][0] == {"value": "서울", "count": 2}
    assert memo["missing"] == 1 and memo["distinct"] == 3


def test_correlations_pearson_and_spearman() -> None:
    profile = profile_frame(_mixed_frame())
    corr = profile["correlations"]
    idx = {n: i for i, n in enumerate(corr["columns"])}
    assert corr["pearson"][idx["x"]][idx["double"]] == pytest.approx(1.0)
    assert corr["spearman"][idx["x"]][idx["neg"]] == pytest.approx(-1.0)
    assert abs(corr["pearson"][idx["x"]][idx["count"]]) < 0.1
    assert corr["rows"] == 2_000


def test_duplicate_rows_counted_exactly() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3, 1, 1], "b": ["x", "y", "z", "x", "x"]})
    assert profile_frame(frame)["duplicate_rows"] == 2
    unique = pl.DataFrame({"id": [1.5, 2.5, 3.5], "b": ["x", "x", "x"]})
    assert profile_frame(unique)["duplicate_rows"] == 0


def test_streaming_mode_matches_exact_aggregates(tmp_path: Path) -> None:
    frame = _mixed_frame(rows=5_000)
    frame.write_parquet(tmp_path / "d.parquet")
    full = profile_frame(frame, target="y")
    streamed = profile_frame(pl.scan_parquet(tmp_path / "d.parquet"), target="y", full_max_rows=1_000,
                             sample_rows=800, seed=3)
    assert streamed["mode"] == "streaming" and 500 < streamed["sample_rows"] < 1_100
    assert "quantiles" in streamed["sampled_statistics"] and streamed["memory_bytes"] is None
    a, b = _columns(full), _columns(streamed)
    for name in ("x", "count"):
        for key in ("missing", "min", "max"):
            assert a[name][key] == b[name][key]
        assert a[name]["mean"] == pytest.approx(b[name]["mean"]) and a[name]["std"] == pytest.approx(b[name]["std"])
    assert a["city"]["text_length"] == b["city"]["text_length"] and b["city"]["top_values"][0]["value"] == "서울"
    assert not b["count"]["distinct_exact"] and abs(b["count"]["distinct"] - a["count"]["distinct"]) < 50
    assert streamed["duplicate_rows"] == full["duplicate_rows"] == 0
    assert streamed["target"]["classes"] == full["target"]["classes"]
    again = profile_frame(pl.scan_parquet(tmp_path / "d.parquet"), target="y", full_max_rows=1_000, sample_rows=800,
                          seed=3)
    assert again["sample_rows"] == streamed["sample_rows"] and again["correlations"] == streamed["correlations"]


def test_sampled_mode_profiles_a_seeded_sample() -> None:
    frame = _mixed_frame(rows=3_000)
    profile = profile_frame(frame.lazy(), sampled=True, sample_rows=500, seed=9)
    assert profile["mode"] == "sampled" and 400 < profile["sample_rows"] < 600 and profile["rows"] == 3_000
    assert profile["sampled_statistics"] == ["everything"]
    again = profile_frame(frame.lazy(), sampled=True, sample_rows=500, seed=9)
    assert again["column_profiles"] == profile["column_profiles"]
    eager = profile_frame(frame, sampled=True, sample_rows=500, seed=9)
    assert eager["sample_rows"] == 500 and sum(t["count"] for t in _columns(eager)["y"]["top_values"]) == 500


def test_lazy_frame_below_threshold_is_profiled_in_full() -> None:
    profile = profile_frame(_mixed_frame(rows=300).lazy(), full_max_rows=1_000)
    assert profile["mode"] == "full" and profile["rows"] == 300 and profile["memory_bytes"] > 0


def test_empty_table_and_bad_options() -> None:
    empty = profile_frame(pl.DataFrame({"a": pl.Series([], dtype=pl.Int64), "b": pl.Series([], dtype=pl.String)}))
    assert empty["rows"] == 0 and empty["warnings"][0]["code"] == "empty"
    frame = pl.DataFrame({"a": [1, 2]})
    with pytest.raises(InvalidInput, match="target column 'label' is not in the table"):
        profile_frame(frame, target="label")
    with pytest.raises(InvalidInput, match="task must be"):
        profile_frame(frame, task="clustering")
    with pytest.raises(InvalidInput, match="at least 1 row"):
        profile_frame(frame, sample_rows=0)


def test_progress_is_reported_in_order() -> None:
    seen: list[float] = []
    profile_frame(_mixed_frame(rows=200), progress=lambda fraction, _message: seen.append(fraction))
    assert seen == sorted(seen) and seen[-1] == 1.0
