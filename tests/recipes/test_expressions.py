"""The safe expression language: parsing, precedence, functions on real frames, and errors that name the position."""

from __future__ import annotations

import polars as pl
import pytest

from mlpilot.recipes import expressions
from mlpilot.recipes.expressions import Binary, Call, Column, ExpressionError, Literal, parse

FRAME = pl.DataFrame({"a": [1, 2, 3, None], "b": [10.0, 20.0, 30.0, 40.0], "name": [" Kim", "lee", "PARK", None],
                      "매출 금액": [100, 200, 300, 400]})


def evaluate(source: str) -> list:
    return FRAME.select(expressions.compile_expression(source, columns=FRAME.columns).alias("x"))["x"].to_list()


def test_precedence_and_ast() -> None:
    assert parse("1 + 2 * a") == Binary("+", Literal(1, 1), Binary("*", Literal(2, 5), Column("a", 9), 7), 3)
    tree = parse("not a > 1 and b < 2 or name == 'x'")
    assert isinstance(tree, Binary) and tree.op == "or" and tree.left.op == "and"
    assert parse("coalesce(a, 0)") == Call("coalesce", (Column("a", 10), Literal(0, 13)), 1)
    assert expressions.columns_of(parse("if(a > 1, `매출 금액`, b)")) == {"a", "매출 금액", "b"}


@pytest.mark.parametrize(("source", "expected"), [
    ("a * 2 + 1", [3, 5, 7, None]),
    ("(a + 1) * 2", [4, 6, 8, None]),
    ("-a + b / 10", [0.0, 0.0, 0.0, None]),
    ("coalesce(a, 0) >= 2", [False, True, True, False]),
    ("if(a > 1, 'big', 'small')", ["small", "big", "big", "small"]),
    ("lower(trim(name))", ["kim", "lee", "park", None]),
    ("len(upper(name))", [4, 3, 4, None]),
    ("round(b / 3, 1)", [3.3, 6.7, 10.0, 13.3]),
    ("abs(-a)", [1, 2, 3, None]),
    ("`매출 금액` % 300 == 100 or is_null(a)", [True, False, False, True]),
    ("a > 1 and not (b == 30)", [False, True, False, None]),
    ("contains(name, 'e')", [False, True, False, None]),
    ("log(b) > 3", [False, False, True, True]),
])
def test_evaluates_on_frames(source: str, expected: list) -> None:
    assert evaluate(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("a +", "position 4: expected a column, a number, a string or '(' but found the end of the expression"),
    ("a == = b", "position 6: unexpected '='; compare with '=='"),
    ("a = 1", "position 3: unexpected '='; compare with '=='"),
    ("(a + 1", "position 7: expected ')' to close the '(' at position 1"),
    ("a 1", "position 3: expected an operator or the end of the expression but found '1'"),
    ("name == 'x", "position 9: the string starting with ' is never closed"),
    ("a.b", "position 2: unexpected character '.'"),
    ("a; drop", "position 2: unexpected character ';'"),
    ("1 < a < 3", "position 7: comparisons cannot be chained"),
    ("__import__('os')", "position 1: unknown function __import__()"),
    ("exec('1')", "position 1: unknown function exec()"),
    ("round(a, b)", "position 10: argument 2 of round() must be a literal value"),
    ("abs(a, b)", "position 1: abs() takes 1 argument(s); got 2"),
    ("missing * 2", "position 1: unknown column 'missing'; the columns are a, b, name, 매출 금액"),
    ("", "The expression is empty."),
    ("f(a,)", "position 5: expected a column, a number, a string or '(' but found ')'"),
])
def test_errors_name_position_and_token(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        expressions.compile_expression(source, columns=FRAME.columns)
    assert message in caught.value.detail
    assert caught.value.status == 422


def test_limits_keep_hostile_input_cheap() -> None:
    with pytest.raises(ExpressionError, match="limit is"):
        parse("a + " * 1000 + "a")
    with pytest.raises(ExpressionError, match="nests deeper"):
        parse("(" * 100 + "a" + ")" * 100)
    with pytest.raises(ExpressionError, match="nests deeper"):
        parse("not " * 100 + "a")
    # A chain of ~1,000 operators fits the length limit but would overflow the compiler's recursion.
    with pytest.raises(ExpressionError, match="operations deep"):
        parse("+".join(["a"] * 999))
    assert parse("+".join(["a"] * 150)) is not None
