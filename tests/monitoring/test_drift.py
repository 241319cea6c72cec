"""The drift report engine: exact statistics against scipy, Evidently's type inference and test choice, decisions,
missing values, bad input, and the offline `mlpilot monitor drift` command."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.spatial import distance
from typer.testing import CliRunner

from mlpilot.cli.main import app
from mlpilot.core.errors import InvalidInput
from mlpilot.monitoring import drift
from mlpilot.monitoring.drift import drift_report, infer_column_type


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- exact statistics ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n1", "n2", "decimals"), [(50, 70, None), (400, 400, None), (3, 7, None),
                                                    (1000, 1337, 1), (2500, 900, 0)])
def test_wasserstein_equals_scipy(n1: int, n2: int, decimals: int | None) -> None:
    rng = _rng(n1)
    a, b = rng.normal(0, 1, n1), rng.normal(0.3, 1.5, n2)
    if decimals is not None:  # many ties
        a, b = np.round(a, decimals), np.round(b, decimals)
    got = drift.wasserstein_distance_sorted(np.sort(a), np.sort(b))
    assert got == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("n1", "n2", "shift", "decimals"), [(40, 90, 0.5, None), (800, 800, 0.0, 1),
                                                             (60_000, 70_001, 0.05, None),
                                                             (70_000, 50_000, 0.0, None),
                                                             (65_000, 65_000, 0.02, 1)])
def test_ks_equals_scipy(n1: int, n2: int, shift: float, decimals: int | None) -> None:
    # The two largest cases take the refined-grid path (more than KS_GRID_MIN_VALUES values in all).
    rng = _rng(n2)
    a, b = rng.normal(0, 1, n1), rng.normal(shift, 1, n2)
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    statistic, p_value = drift.ks_test_sorted(np.sort(a), np.sort(b))
    expected = stats.ks_2samp(a, b)
    assert statistic == pytest.approx(expected.statistic, abs=1e-15)
    if max(n1, n2) <= 10_000:
        assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    else:  # the asymptotic Kolmogorov distribution
        assert p_value == pytest.approx(expected.pvalue, rel=0.02, abs=1e-6)


def test_report_scores_equal_scipy_for_every_default_test() -> None:
    rng = _rng(1)
    big_ref = pl.DataFrame({"x": rng.normal(0, 2, 3000), "c": rng.choice(["a", "b", "c", "d"], 3000)})
    big_cur = pl.DataFrame({"x": rng.normal(0.1, 2, 2500), "c": rng.choice(["a", "b", "c", "e"], 2500)})
    report = drift_report(big_ref, big_cur)
    x, c = report.column("x"), report.column("c")
    a, b = big_ref["x"].to_numpy(), big_cur["x"].to_numpy()
    assert x.method == "wasserstein"
    assert x.score == pytest.approx(stats.wasserstein_distance(a, b) / np.std(a), rel=1e-12)
    assert x.ks_statistic == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert x.ks_p_value == pytest.approx(stats.ks_2samp(a, b).pvalue, rel=1e-9)
    keys = ["a", "b", "c", "d", "e"]
    ref_counts = np.array([(big_ref["c"] == k).sum() for k in keys], float)
    cur_counts = np.array([(big_cur["c"] == k).sum() for k in keys], float)
    assert c.method == "jensenshannon"
    assert c.score == pytest.approx(distance.jensenshannon(ref_counts / 3000, cur_counts / 2500), rel=1e-12)
    # "e" never occurs in the reference, so the expected count is 0 and chi-squared is infinite.
    assert c.chi2_statistic == math.inf and c.chi2_p_value == 0.0

    small_ref = pl.DataFrame({"x": rng.normal(0, 1, 300), "c": rng.choice(["a", "b", "c"], 300)})
    small_cur = pl.DataFrame({"x": rng.normal(0, 1, 200), "c": rng.choice(["a", "b", "c"], 200)})
    report = drift_report(small_ref, small_cur)
    x, c = report.column("x"), report.column("c")
    assert x.method == "ks"
    assert x.score == pytest.approx(stats.ks_2samp(small_ref["x"].to_numpy(), small_cur["x"].to_numpy()).pvalue)
    ref_counts = np.array([(small_ref["c"] == k).sum() for k in "abc"], float)
    cur_counts = np.array([(small_cur["c"] == k).sum() for k in "abc"], float)
    assert c.method == "chisquare"
    assert c.score == pytest.approx(stats.chisquare(cur_counts, ref_counts * 200 / 300).pvalue, rel=1e-9)
    assert c.chi2_statistic == pytest.approx(stats.chisquare(cur_counts, ref_counts * 200 / 300).statistic)


def test_psi_over_shares_and_reference_deciles() -> None:
    assert drift.psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    expected = (0.7 - 0.5) * math.log(0.7 / 0.5) + (0.3 - 0.5) * math.log(0.3 / 0.5)
    assert drift.psi(np.array([0.5, 0.5]), np.array([0.7, 0.3])) == pytest.approx(expected)
    a = np.arange(1000.0)
    # Every current value above the reference's last decile: 10 % vs 100 % in the top bin, the rest empty.
    b = np.full(100, 5000.0)
    value = drift._psi_numeric(a, b)
    top = (1 - 0.1) * math.log(1 / 0.1)
    rest = 9 * (0.0001 - 0.1) * math.log(0.0001 / 0.1)
    assert value == pytest.approx(top + rest, rel=1e-3)


# --- column types and the test chosen ---------------------------------------------------------------------------


def test_column_types_are_inferred_like_evidently() -> None:
    n = 100
    frame = pl.DataFrame({
        "float": np.linspace(0, 1, n),
        "few_ints": np.arange(n) % 10,
        "many_ints": np.arange(n) % 11,
        "ints_with_missing": pl.Series([None] + [1] * (n - 1), dtype=pl.Int64),
        "labels": ["a", "b"] * (n // 2),
        "free_text": [f"note {i}" for i in range(n)],
        "flag": [True, False] * (n // 2),
        "enum": pl.Series(["x", "y"] * (n // 2), dtype=pl.Categorical),
        "day": pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 4, 9), eager=True),
    })
    assert {name: infer_column_type(frame[name]) for name in frame.columns} == {
        "float": "numeric", "few_ints": "categorical", "many_ints": "numeric", "ints_with_missing": "numeric",
        "labels": "categorical", "free_text": "text", "flag": "categorical", "enum": "categorical",
        "day": "datetime"}
    report = drift_report(frame, frame)
    assert report.skipped == {"day": "date/time: not tested"}
    assert [c.column for c in report.columns] == ["float", "few_ints", "many_ints", "ints_with_missing", "labels",
                                                 "free_text", "flag", "enum"]
    assert report.column("free_text").method == "text_content_percentile"
    assert not report.drifted_columns


def test_types_are_taken_from_the_current_table_and_can_be_overridden() -> None:
    ref = pl.DataFrame({"code": np.arange(2000) % 50})
    cur = pl.DataFrame({"code": np.arange(2000) % 8})
    assert drift_report(ref, cur).column("code").column_type == "categorical"
    forced = drift_report(ref, cur, column_types={"code": "numeric"}).column("code")
    assert (forced.column_type, forced.method) == ("numeric", "wasserstein")


@pytest.mark.parametrize(("rows", "values", "method"), [
    (2000, 3, "jensenshannon"),  # a numeric column with at most five values is binned by value
    (500, 4, "chisquare"),
    (500, 2, "z"),
])
def test_numeric_columns_with_few_values_get_categorical_tests(rows: int, values: int, method: str) -> None:
    frame = pl.DataFrame({"x": (np.arange(rows) % values).astype(float)})
    assert drift_report(frame, frame).column("x").method == method


# --- decisions ------------------------------------------------------------------------------------------------


def test_each_default_test_flags_drift_and_passes_stable_data() -> None:
    rng = _rng(2)
    for rows, numeric_method, categorical_method in ((3000, "wasserstein", "jensenshannon"), (600, "ks", "chisquare")):
        ref = pl.DataFrame({"x": rng.normal(0, 1, rows), "c": rng.choice(["a", "b", "c"], rows, p=[0.6, 0.3, 0.1])})
        same = pl.DataFrame({"x": rng.normal(0, 1, rows), "c": rng.choice(["a", "b", "c"], rows, p=[0.6, 0.3, 0.1])})
        moved = pl.DataFrame({"x": rng.normal(0.5, 1, rows), "c": rng.choice(["a", "b", "c"], rows, p=[0.2, 0.3, 0.5])})
        stable, drifted = drift_report(ref, same), drift_report(ref, moved)
        assert [c.method for c in stable.columns] == [numeric_method, categorical_method]
        assert stable.drifted_columns == [] and not stable.dataset_drift
        assert drifted.drifted_columns == ["x", "c"] and drifted.dataset_drift


def test_binary_column_uses_the_proportion_z_test() -> None:
    ref = pl.DataFrame({"flag": ["no"] * 250 + ["yes"] * 250})
    same = pl.DataFrame({"flag": ["no"] * 240 + ["yes"] * 260})
    moved = pl.DataFrame({"flag": ["no"] * 150 + ["yes"] * 350})
    assert drift_report(ref, same).column("flag").method == "z"
    assert not drift_report(ref, same).column("flag").drift_detected
    result = drift_report(ref, moved).column("flag")
    p1, p2 = 0.5, 0.7
    pooled = 0.6
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (2 / 500))
    assert result.drift_detected and result.score == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))))


def test_dataset_drifts_when_half_the_columns_drift() -> None:
    rng = _rng(3)
    ref = pl.DataFrame({name: rng.normal(0, 1, 1500) for name in "abcd"})
    cur = pl.DataFrame({"a": rng.normal(1, 1, 1500), "b": rng.normal(1, 1, 1500), "c": rng.normal(0, 1, 1500),
                        "d": rng.normal(0, 1, 1500)})
    report = drift_report(ref, cur)
    assert report.drifted_columns == ["a", "b"] and report.share_drifted == 0.5 and report.dataset_drift
    assert not drift_report(ref, cur, drift_share=0.75).dataset_drift
    assert drift_report(ref, cur, columns=["c", "d"]).drifted_columns == []


def test_a_forced_method_and_threshold_apply_to_every_column() -> None:
    rng = _rng(4)
    ref = pl.DataFrame({"x": rng.normal(0, 1, 2000), "y": rng.normal(0, 1, 2000)})
    cur = pl.DataFrame({"x": rng.normal(0.2, 1, 2000), "y": rng.normal(0, 1, 2000)})
    report = drift_report(ref, cur, method="psi", threshold=0.02)
    assert {c.method for c in report.columns} == {"psi"}
    assert [c.score for c in report.columns] == [c.psi for c in report.columns]
    assert report.drifted_columns == ["x"]
    ks = drift_report(ref, cur, method="ks").column("x")
    assert ks.method == "ks" and ks.drift_detected and ks.threshold == 0.05


def test_free_text_uses_evidentlys_domain_classifier() -> None:
    rng = _rng(8)
    old_words, new_words = ["delivery", "late", "refund", "parcel"], ["password", "login", "account", "locked"]

    def notes(words: list[str], n: int) -> list[str]:
        return [" ".join(rng.choice(words, 4)) + f" #{rng.integers(1_000_000)}" for _ in range(n)]

    for rows, method in ((300, "text_content_percentile"), (1200, "text_content")):
        ref = pl.DataFrame({"note": notes(old_words, rows)})
        same = pl.DataFrame({"note": notes(old_words, rows)})
        moved = pl.DataFrame({"note": notes(old_words, rows // 2) + notes(new_words, rows - rows // 2)})
        stable, drifted = drift_report(ref, same).column("note"), drift_report(ref, moved).column("note")
        assert (stable.column_type, stable.method, drifted.method) == ("text", method, method)
        assert not stable.drift_detected and stable.score < 0.6
        assert drifted.drift_detected and drifted.score > 0.7 and drifted.psi is None


# --- missing values -------------------------------------------------------------------------------------------


def test_missing_values_are_left_out_of_the_tests_and_their_share_change_reported() -> None:
    rng = _rng(5)
    a, b = rng.normal(0, 1, 2000), rng.normal(0, 1, 2000)
    ref = pl.DataFrame({"x": pl.Series(a).scatter(range(100), None),
                        "c": pl.Series(rng.choice(["u", "v"], 2000)).scatter(range(200), None)})
    cur_x = b.copy()
    cur_x[:300] = np.nan  # NaN counts as missing like null
    cur = pl.DataFrame({"x": pl.Series(cur_x).scatter(range(300, 400), None),
                        "c": pl.Series(rng.choice(["u", "v"], 2000)).scatter(range(600), None)})
    report = drift_report(ref, cur)
    x, c = report.column("x"), report.column("c")
    assert (x.reference_values, x.current_values) == (1900, 1600)
    assert (x.reference_missing_share, x.current_missing_share) == (0.05, 0.2)
    assert x.missing_share_change == pytest.approx(0.15)
    present_a, present_b = a[100:], b[400:]
    assert x.score == pytest.approx(stats.wasserstein_distance(present_a, present_b) / np.std(present_a), rel=1e-12)
    assert (c.reference_values, c.current_values) == (1800, 1400)
    assert c.missing_share_change == pytest.approx(0.3 - 0.1)
    assert not report.drifted_columns  # more missing values alone are reported, not called drift


# --- bad input --------------------------------------------------------------------------------------------------


def _frame(data: dict, dtype: pl.DataType | None = None) -> pl.DataFrame:
    return pl.DataFrame(data, schema={name: dtype for name in data} if dtype else None)


F = pl.Float64
BAD_INPUT = [
    (_frame({"x": [1.0, 2.0]}), _frame({"y": [1.0, 2.0]}), {}, "'y' are in the current data but not in the reference"),
    (_frame({"x": [1.0], "z": [1.0]}), _frame({"x": [1.0]}), {}, "'z' are in the reference data but not in"),
    (_frame({"x": [1.0]}), _frame({"x": [1.0]}), {"columns": ["nope"]}, "'nope' are not in the current data"),
    (_frame({"x": [None, None]}, F), _frame({"x": [1.0, 2.0]}), {},
     "Column 'x' has no non-missing values in the reference data"),
    (_frame({"x": [1.0, 2.0]}), _frame({"x": [float("nan"), None]}, F), {},
     "Column 'x' has no non-missing values in the current data"),
    (_frame({"c": [None, None]}, pl.String), _frame({"c": ["a", "b"]}), {"column_types": {"c": "categorical"}},
     "Column 'c' has no non-missing values in the reference data"),
    (_frame({"x": ["a", "b"]}), _frame({"x": [1.5, 2.5]}), {}, "Column 'x' is numeric but has type String"),
    (_frame({"x": [1.0]}), _frame({"x": [1.0]}), {"method": "magic"}, "Unknown drift method 'magic'"),
    (_frame({"c": ["a", "a"]}), _frame({"c": ["a", "a", "a", "b"]}), {"method": "wasserstein"},
     "cannot test categorical column 'c'"),
    (_frame({"x": [1.0]}), _frame({"x": [1.0]}), {"column_types": {"x": "ordinal"}}, "column_types['x'] is 'ordinal'"),
    (_frame({"x": [1.0]}), _frame({"x": []}, F), {}, "The current data has no rows"),
    (_frame({"d": [dt.date(2024, 1, 1)]}), _frame({"d": [dt.date(2024, 1, 2)]}), {}, "'d': date/time: not tested"),
]


@pytest.mark.parametrize(("ref", "cur", "kwargs", "message"), BAD_INPUT)
def test_bad_input_names_the_column(ref: pl.DataFrame, cur: pl.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        drift_report(ref, cur, **kwargs)
    assert message in raised.value.detail


def test_lazy_frames_are_read_for_the_compared_columns_only() -> None:
    rng = _rng(6)
    ref = pl.DataFrame({"x": rng.normal(0, 1, 1200), "other": ["a"] * 1200}).lazy()
    cur = pl.DataFrame({"x": rng.normal(1, 1, 1200), "other": [1] * 1200}).lazy()
    report = drift_report(ref, cur, columns=["x"])
    assert report.drifted_columns == ["x"] and report.reference_rows == 1200
    assert json.loads(json.dumps(report.to_dict()))["columns"][0]["column"] == "x"


# --- the CLI ----------------------------------------------------------------------------------------------------


def test_cli_reports_drifted_columns_and_writes_json(tmp_path) -> None:
    rng = _rng(7)
    ref = pl.DataFrame({"amount": rng.normal(0, 1, 1500), "city": rng.choice(["서울", "부산"], 1500, p=[0.8, 0.2]),
                        "steady": rng.normal(0, 1, 1500)})
    cur = pl.DataFrame({"amount": rng.normal(1, 1, 1500), "city": rng.choice(["서울", "부산"], 1500, p=[0.3, 0.7]),
                        "steady": rng.normal(0, 1, 1500)})
    ref.write_parquet(tmp_path / "ref.parquet")
    cur.write_csv(tmp_path / "cur.csv")
    out = tmp_path / "report.json"
    runner = CliRunner()
    result = runner.invoke(app, ["monitor", "drift", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.csv"),
                                 "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "dataset drift: 2 of 3 columns drifted" in result.output
    assert "amount" in result.output and "city" in result.output and "steady" not in result.output
    saved = json.loads(out.read_text())
    assert saved["drifted_columns"] == ["amount", "city"] and saved["dataset_drift"] is True

    only = runner.invoke(app, ["monitor", "drift", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.csv"),
                               "--columns", "steady"], terminal_width=200)
    assert only.exit_code == 0 and "no dataset drift: 0 of 1 columns" in only.output

    bad = runner.invoke(app, ["monitor", "drift", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.csv"),
                              "--columns", "amount,missing"], terminal_width=200)
    assert bad.exit_code == 1 and "'missing' are not in the current data" in bad.output
