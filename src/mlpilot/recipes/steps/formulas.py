"""Steps written as expressions of the recipe expression language: filter rows, and derive a column."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import polars as pl
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from mlpilot.recipes import expressions
from mlpilot.recipes.steps.base import EXPRESSION_ERROR, ROW_ID, Context, Outcome, StepBase, Text


def _parses(source: str) -> str:
    try:
        expressions.parse(source)
    except expressions.ExpressionError as exc:
        raise PydanticCustomError(EXPRESSION_ERROR, exc.detail) from None
    return source


# Checked without data when the step is validated; column names are checked when it is applied.
Expression = Annotated[Text, AfterValidator(_parses)]


def _compile(ctx: Context, source: str) -> pl.Expr:
    try:
        return expressions.compile_expression(source, columns=ctx.data_columns())
    except expressions.ExpressionError as exc:
        raise ctx.error(exc.detail) from None


def _not_evaluable(ctx: Context, source: str, exc: pl.exceptions.PolarsError) -> Exception:
    return ctx.error(f"the expression {source!r} cannot be evaluated on this data: {str(exc).splitlines()[0]}")


class FilterStep(StepBase):
    """Keep the rows where an expression is true (null counts as false)."""

    op: Literal["filter"]
    expr: Expression
    example: ClassVar[dict[str, Any]] = {"op": "filter", "expr": "age >= 18 and not is_null(city)"}

    def describe(self) -> str:
        return f"keep rows where {self.expr}"

    def apply(self, ctx: Context) -> Outcome:
        expr = _compile(ctx, self.expr)
        try:
            keep = ctx.frame.select(expr.cast(pl.Boolean).fill_null(False)).to_series()
        except pl.exceptions.PolarsError as exc:
            raise _not_evaluable(ctx, self.expr, exc) from None
        if len(keep) == 1 and ctx.frame.height != 1:
            keep = pl.Series([bool(keep[0])] * ctx.frame.height)
        return Outcome(ctx.frame.filter(keep), details={"removed": int((~keep).sum())})


class DeriveStep(StepBase):
    """Add (or replace) a column computed by an expression."""

    op: Literal["derive"]
    column: Text
    expr: Expression
    example: ClassVar[dict[str, Any]] = {"op": "derive", "column": "spend_per_year",
                                         "expr": "round(spend / coalesce(age, 1), 2)"}

    def describe(self) -> str:
        return f"{self.column} = {self.expr}"

    def apply(self, ctx: Context) -> Outcome:
        expr = _compile(ctx, self.expr)
        if self.column == ROW_ID:
            raise ctx.error(f"the column name {ROW_ID!r} is reserved.")
        try:
            frame = ctx.frame.with_columns(expr.alias(self.column))
        except pl.exceptions.PolarsError as exc:
            raise _not_evaluable(ctx, self.expr, exc) from None
        return Outcome(frame, details={"dtype": str(frame.schema[self.column])})
