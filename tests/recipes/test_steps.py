"""Recipe steps on real frames: each operation, per-step row counts, failure policies and validation errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.recipes.steps import StepError, apply_steps, describe_step, validate_steps

RAW = pl.DataFrame({
    "id": [1, 2, 3, 4, 5, 6],
    "age": ["31", " 42 ", "x", None, "27", "27"],
    "joined": ["2024-01-02", "2024년 02월 03일", "2024/03/04", None, "2024-05-06", "2024-05-06"],
    "name": ["  Kim   Min ", "ｌｅｅ", "Park", "choi", "Jung", "Jung"],
    "spend": [10.0, 12.0, None, 11.0, 500.0, 500.0],
    "memo": ["010-1234-5678", "none", "a@b.com", None, "900101-1234567", "900101-1234567"],
})


def run(steps: list[dict[str, Any]], frame: pl.DataFrame = RAW) -> tuple[pl.DataFrame, list]:
    out, reports = apply_steps(frame.lazy(), steps)
    return out.collect(), reports


def test_full_recipe_counts_rows_per_step() -> None:
    out, reports = run([
        {"op": "cast", "column": "age", "to": "int", "on_error": "null"},
        {"op": "parse_date", "column": "joined", "formats": ["%Y-%m-%d", "%Y년 %m월 %d일"], "on_error": "null"},
        {"op": "normalize_text", "columns": ["name"], "unicode": "NFKC", "case": "lower"},
        {"op": "impute", "columns": ["spend"], "strategy": "median"},
        {"op": "duplicates", "subset": ["name", "joined"], "action": "drop"},
        {"op": "filter", "expr": "not is_null(joined)"},
        {"op": "derive", "column": "spend_per_year", "expr": "round(spend / coalesce(age, 1), 2)"},
        {"op": "mask_pii", "columns": ["memo"]},
        {"op": "rename", "mapping": {"spend": "amount"}},
        {"op": "select", "columns": ["id", "name", "age", "joined", "amount", "spend_per_year", "memo"]},
    ])
    assert [(r.step, r.op, r.rows_in, r.rows_out) for r in reports] == [
        (1, "cast", 6, 6), (2, "parse_date", 6, 6), (3, "normalize_text", 6, 6), (4, "impute", 6, 6),
        (5, "duplicates", 6, 5), (6, "filter", 5, 3), (7, "derive", 3, 3), (8, "mask_pii", 3, 3), (9, "rename", 3, 3),
        (10, "select", 3, 3)]
    assert reports[0].flagged == 1 and "rows 3" in reports[0].errors[0]
    assert reports[1].flagged == 1  # "2024/03/04" matches neither format
    assert reports[3].details["filled"] == {"spend": {"value": 12.0, "filled": 1}}
    assert reports[7].details["pii"] == {"memo": {"rrn": 1, "phone": 1}}
    assert out.to_dicts() == [
        {"id": 1, "name": "kim min", "age": 31, "joined": dt.date(2024, 1, 2), "amount": 10.0,
         "spend_per_year": 0.32, "memo": "010-****-5678"},
        {"id": 2, "name": "lee", "age": 42, "joined": dt.date(2024, 2, 3), "amount": 12.0, "spend_per_year": 0.29,
         "memo": "none"},
        {"id": 5, "name": "jung", "age": 27, "joined": dt.date(2024, 5, 6), "amount": 500.0,
         "spend_per_year": 18.52, "memo": "900101-1******"},
    ]


def test_failing_cast_names_step_column_and_rows() -> None:
    with pytest.raises(StepError) as caught:
        run([{"op": "select", "columns": ["id", "age"]}, {"op": "cast", "column": "age", "to": "int"}])
    assert caught.value.detail.startswith("Step 2 (cast) failed on column 'age': 1 value(s) cannot be read as int: "
                                          "row 3 ('x')")
    assert [r.op for r in caught.value.reports] == ["select"]


def test_failing_rows_keep_their_input_row_numbers_after_a_filter() -> None:
    frame = pl.DataFrame({"v": ["1", "2", "bad", "4", "oops", "6", "7", "8", "9", "no", "x", "y", "z"]})
    with pytest.raises(StepError) as caught:
        run([{"op": "filter", "expr": "v != '1'"}, {"op": "cast", "column": "v", "to": "float"}], frame)
    detail = caught.value.detail
    assert "6 value(s) cannot be read as float: row 3 ('bad'), row 5 ('oops'), row 10 ('no'), row 11 ('x'), " \
           "row 12 ('y') and 1 more" in detail


def test_flag_policy_nulls_and_flags() -> None:
    out, reports = run([{"op": "cast", "column": "age", "to": "int", "on_error": "null", "flag_column": "bad_age"}])
    assert out["age"].to_list() == [31, 42, None, None, 27, 27]
    assert out["bad_age"].to_list() == [False, False, True, False, False, False]
    assert reports[0].flagged == 1


def test_cast_other_types() -> None:
    frame = pl.DataFrame({"b": ["yes", "N", "예", None], "f": ["1.5", "2", "3e2", "-1"], "i": ["1.0", "2", "3", "4"]})
    out, _ = run([{"op": "cast", "column": "b", "to": "bool"}, {"op": "cast", "column": "f", "to": "float"},
                  {"op": "cast", "column": "i", "to": "int"}, {"op": "cast", "column": "i", "to": "string"}], frame)
    assert out.to_dict(as_series=False) == {"b": [True, False, True, None], "f": [1.5, 2.0, 300.0, -1.0],
                                            "i": ["1", "2", "3", "4"]}
    with pytest.raises(StepError, match="row 1 \\('1.5'\\)"):
        run([{"op": "cast", "column": "f", "to": "int"}], frame)


@pytest.mark.parametrize(("step", "expected", "flagged"), [
    ({"op": "outliers", "columns": ["v"], "method": "iqr", "action": "clip"}, [1, 2, 3, 4, 5, 8], 1),
    ({"op": "outliers", "columns": ["v"], "method": "bounds", "lower": 2, "upper": 4, "action": "clip"},
     [2, 2, 3, 4, 4, 4], 3),
    ({"op": "outliers", "columns": ["v"], "method": "iqr", "action": "drop"}, [1, 2, 3, 4, 5], 1),
    ({"op": "outliers", "columns": ["v"], "method": "bounds", "upper": 4, "action": "null"},
     [1, 2, 3, 4, None, None], 2),
    ({"op": "outliers", "columns": ["v"], "method": "zscore", "threshold": 1.5, "action": "flag"},
     [1, 2, 3, 4, 5, 100], 1),
])
def test_outliers(step: dict[str, Any], expected: list, flagged: int) -> None:
    out, reports = run([step], pl.DataFrame({"v": [1, 2, 3, 4, 5, 100]}))
    assert out["v"].to_list() == expected and reports[0].flagged == flagged
    if step["action"] == "flag":
        assert out["v_outlier"].to_list() == [False] * 5 + [True]


def test_impute_duplicates_and_map_values() -> None:
    frame = pl.DataFrame({"n": [1, None, 3, 3], "c": ["a", None, "b", "b"], "k": [1, 2, 3, 3]})
    out, reports = run([
        {"op": "impute", "columns": ["n"], "strategy": "mean"},
        {"op": "impute", "columns": ["c"], "strategy": "mode"},
        {"op": "duplicates", "action": "flag"},
        {"op": "map_values", "column": "c", "mapping": {"a": "A", "b": "B"}},
        {"op": "map_values", "column": "k", "mapping": {"1": "one"}, "unmapped": "default", "default": "other"},
    ], frame)
    assert out.to_dict(as_series=False) == {"n": [1, 2, 3, 3], "c": ["A", "B", "B", "B"],
                                            "k": ["one", "other", "other", "other"],
                                            "is_duplicate": [False, False, False, True]}
    assert reports[0].details["filled"]["n"] == {"value": 2, "filled": 1}
    assert reports[2].details == {"duplicates": 1}
    out, _ = run([{"op": "impute", "columns": ["c"], "strategy": "constant", "value": "?"},
                  {"op": "drop", "columns": ["k"]}], frame)
    assert out.columns == ["n", "c"] and out["c"].to_list() == ["a", "?", "b", "b"]


def test_detect_pii_reports_without_changing_data() -> None:
    out, reports = run([{"op": "detect_pii"}])
    assert out.equals(RAW)
    assert reports[0].details["pii"] == {"memo": {"rrn": 2, "phone": 1, "email": 1}}


@pytest.mark.parametrize(("steps", "message"), [
    ([{"op": "cast", "column": "nope", "to": "int"}],
     "Step 1 (cast): column 'nope' does not exist; the columns are 'id', 'age'"),
    ([{"op": "filter", "expr": "spend >"}], "Step 1 (filter): Expression 'spend >', position 8"),
    ([{"op": "filter", "expr": "agee > 3"}], "Step 1 (filter): Expression 'agee > 3', position 1: unknown column"),
    ([{"op": "derive", "column": "x", "expr": "lower(spend)"}],
     "Step 1 (derive): the expression 'lower(spend)' cannot be evaluated on this data"),
    ([{"op": "impute", "columns": ["name"], "strategy": "mean"}],
     "Step 1 (impute): column 'name' is String; mean needs numbers"),
    ([{"op": "rename", "mapping": {"age": "id"}}], "Step 1 (rename): the new name(s) 'id' already exist"),
    ([{"op": "outliers", "columns": ["name"]}], "Step 1 (outliers): column 'name' is String"),
    ([{"op": "parse_date", "column": "joined", "formats": ["%Y-%m-%d"]}],
     "Step 1 (parse_date) failed on column 'joined': 2 value(s) match none of the formats %Y-%m-%d: "
     "row 2 ('2024년 02월 03일'), row 3 ('2024/03/04')"),
])
def test_data_errors_name_the_step(steps: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(StepError) as caught:
        run(steps)
    assert message in caught.value.detail


@pytest.mark.parametrize(("steps", "message"), [
    ({"op": "cast"}, "must be a JSON list"),
    ([1], "Step 1 must be an object with an 'op'"),
    ([{"op": "explode"}], "Step 1: unknown op 'explode'"),
    ([{"op": "select", "columns": ["a"]}, {"op": "cast", "column": "a", "to": "decimal"}],
     "Step 2 (cast): 'to' must be one of 'int', 'float', 'string', 'bool', 'date', 'datetime'; got 'decimal'"),
    ([{"op": "cast", "column": "a", "to": "int", "on_error": "ignore"}], "'on_error' must be one of 'fail', 'null'"),
    ([{"op": "parse_date", "column": "a", "formats": ["YYYY"]}], "'formats' must be a list of strftime formats"),
    ([{"op": "impute", "columns": ["a"], "strategy": "constant"}], "strategy 'constant' needs a 'value'"),
    ([{"op": "outliers", "columns": ["a"], "method": "bounds"}], "method 'bounds' needs 'lower' and/or 'upper'"),
    ([{"op": "filter", "expr": "a == "}], "Step 1 (filter): Expression 'a == ', position 6"),
    ([{"op": "mask_pii", "kinds": ["passport"]}], "Step 1 (mask_pii): unknown PII kind(s) 'passport'"),
    ([{"op": "rename", "mapping": {"a": "x", "b": "x"}}], "two columns would get the same new name"),
    ([{"op": "select", "columns": []}], "'columns' must be a non-empty list"),
])
def test_validation_names_the_bad_step(steps: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_steps(steps)
    assert message in caught.value.detail


def test_describe_step_is_readable() -> None:
    assert describe_step({"op": "derive", "column": "x", "expr": "a + 1"}) == "x = a + 1"
    assert describe_step({"op": "rename", "mapping": {"a": "b"}}) == "rename a → b"
    assert describe_step({"op": "mask_pii"}) == "mask personal data in all text columns"
