"""Steps that change a column's type: cast, and parse_date for text dates in known formats.

A value that cannot be converted fails the step (naming the rows) or, with "on_error": "null", becomes null and
is flagged in a boolean column.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import polars as pl
from pydantic import AfterValidator, Field

from mlpilot.recipes.steps.base import (
    SHOWN_ROWS,
    Context,
    NonEmptyStr,
    OnError,
    OptionalText,
    Outcome,
    StepBase,
    Text,
    hint,
    one_of,
)

CastType = Literal["int", "float", "string", "bool", "date", "datetime"]
CAST_TYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(), "float": pl.Float64(), "string": pl.String(), "bool": pl.Boolean(), "date": pl.Date(),
    "datetime": pl.Datetime("us"),
}
TRUE_WORDS = ("true", "t", "yes", "y", "1", "예", "네", "참")
FALSE_WORDS = ("false", "f", "no", "n", "0", "아니오", "아니요", "거짓")
DateType = Literal["date", "datetime"]


def _strftime(value: str) -> str:
    if "%" not in value:
        raise ValueError("not a strftime format")
    return value


Formats = Annotated[list[Annotated[NonEmptyStr, AfterValidator(_strftime)]], Field(min_length=1),
                    hint('must be a list of strftime formats such as "%Y-%m-%d"')]


def converted(ctx: Context, column: str, new: pl.Series, *, on_error: str, flag_column: str | None,
              problem: str, flag_suffix: str) -> Outcome:
    """Apply a conversion whose nulls (where the input had a value) are failures, per the step's policy."""
    old = ctx.frame.get_column(column)
    failed = new.is_null() & old.is_not_null()
    count = int(failed.sum())
    if count and on_error == "fail":
        raise ctx.fail_rows(column, failed, problem)
    frame = ctx.frame.with_columns(new.alias(column))
    errors = []
    if on_error == "null":
        flag = flag_column or f"{column}_{flag_suffix}"
        frame = frame.with_columns(failed.alias(flag))
        if count:
            errors.append(f"{count} value(s) of {column!r} {problem} were set to null and flagged in {flag!r} "
                          f"(rows {ctx.row_list(failed)}{'…' if count > SHOWN_ROWS else ''}).")
    return Outcome(frame, flagged=count, errors=errors)


def cast_series(series: pl.Series, to: str) -> pl.Series:
    """Convert a column to type `to`; values that do not convert become null (text is read leniently)."""
    target = CAST_TYPES[to]
    if series.dtype == pl.String:
        text = series.str.strip_chars()
        if to == "bool":
            lower = text.str.to_lowercase()
            return (pl.select(pl.when(lower.is_in(TRUE_WORDS)).then(True)
                              .when(lower.is_in(FALSE_WORDS)).then(False).otherwise(None)).to_series()
                    .alias(series.name))
        if to == "int":
            as_float = text.cast(pl.Float64, strict=False)
            whole = as_float.is_not_null() & (as_float == as_float.floor()) & (as_float.abs() < 2**63)
            return pl.select(pl.when(whole).then(as_float).otherwise(None).cast(pl.Int64)).to_series().alias(
                series.name)
        if to == "date":
            return text.str.to_date(strict=False)
        if to == "datetime":
            return text.str.to_datetime(strict=False, time_unit="us")
        return text.cast(target, strict=False)
    return series.cast(target, strict=False)


class CastStep(StepBase):
    """Convert a column to another type; values that do not convert fail the step or are nulled and flagged."""

    op: Literal["cast"]
    column: Text
    to: Annotated[CastType, one_of(CastType)]
    on_error: OnError = "fail"
    flag_column: OptionalText = Field(None, description="With on_error null (default: <column>_cast_failed).")
    example: ClassVar[dict[str, Any]] = {"op": "cast", "column": "age", "to": "int", "on_error": "null",
                                         "flag_column": "bad_age"}

    def describe(self) -> str:
        return f"cast {self.column} to {self.to} (on error: {self.on_error})"

    def apply(self, ctx: Context) -> Outcome:
        column = ctx.column(self.column)
        new = cast_series(ctx.frame.get_column(column), self.to)
        return converted(ctx, column, new, on_error=self.on_error, flag_column=self.flag_column,
                         problem=f"cannot be read as {self.to}", flag_suffix="cast_failed")


class ParseDateStep(StepBase):
    """Read a text column as dates (or datetimes) in the first of the formats that matches."""

    op: Literal["parse_date"]
    column: Text
    formats: Formats
    to: Annotated[DateType, one_of(DateType)] = "date"
    on_error: OnError = "fail"
    flag_column: OptionalText = Field(None, description="With on_error null (default: <column>_date_failed).")
    example: ClassVar[dict[str, Any]] = {"op": "parse_date", "column": "joined",
                                         "formats": ["%Y-%m-%d", "%Y년 %m월 %d일"], "to": "date", "on_error": "fail"}

    def describe(self) -> str:
        return f"parse {self.column} as {self.to} ({' | '.join(self.formats)})"

    def apply(self, ctx: Context) -> Outcome:
        column = ctx.column(self.column)
        series = ctx.frame.get_column(column)
        if series.dtype != pl.String:
            raise ctx.error(f"column {column!r} is {series.dtype}, not text; parse_date reads text.")
        target = pl.Date() if self.to == "date" else pl.Datetime("us")
        text = series.str.strip_chars()
        parsed = pl.select(pl.coalesce([text.str.strptime(target, fmt, strict=False) for fmt in self.formats])
                           ).to_series().alias(column)
        formats = " or ".join(self.formats)
        return converted(ctx, column, parsed, on_error=self.on_error, flag_column=self.flag_column,
                         problem=f"match none of the formats {formats}", flag_suffix="date_failed")
