"""Steps that clean values and rows: impute missing values, drop or flag duplicate rows, clip, null, flag or drop
outliers, and map values to replacements.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal, cast

import polars as pl
from pydantic import Field, model_validator

from mlpilot.recipes.steps.base import (
    Columns,
    Context,
    OptionalColumns,
    OptionalNumber,
    OptionalText,
    Outcome,
    Scalar,
    StepBase,
    Text,
    Value,
    column_text,
    hint,
    one_of,
    rule_error,
)

Strategy = Literal["mean", "median", "mode", "constant"]
DuplicateAction = Literal["drop", "flag"]
OutlierMethod = Literal["iqr", "zscore", "bounds"]
OutlierAction = Literal["clip", "flag", "drop", "null"]
Unmapped = Literal["keep", "null", "default"]
Mapping = Annotated[dict[str, Scalar], Field(min_length=1), hint("must be an object of value → replacement")]


class ImputeStep(StepBase):
    """Fill the missing values of columns with their mean, median or most common value, or a constant."""

    op: Literal["impute"]
    columns: Columns
    strategy: Annotated[Strategy, one_of(Strategy)]
    value: Value = Field(None, description="The value of strategy 'constant'.")
    example: ClassVar[dict[str, Any]] = {"op": "impute", "columns": ["city"], "strategy": "constant",
                                         "value": "unknown"}

    @model_validator(mode="after")
    def _constant_has_value(self) -> ImputeStep:
        if self.strategy == "constant" and not self.given("value"):
            raise rule_error("strategy 'constant' needs a 'value'.")
        return self

    def describe(self) -> str:
        return f"impute {column_text(self.columns)} with {self.strategy}"

    def apply(self, ctx: Context) -> Outcome:
        frame = ctx.frame
        filled: dict[str, Any] = {}
        total = 0
        for column in ctx.columns(self.columns):
            series = frame.get_column(column)
            missing = int(series.null_count())
            strategy = self.strategy
            if strategy in ("mean", "median") and not series.dtype.is_numeric():
                raise ctx.error(f"column {column!r} is {series.dtype}; {strategy} needs numbers "
                                "(use 'mode' or 'constant').")
            if strategy == "mean":
                value: Any = series.mean()
            elif strategy == "median":
                value = series.median()
            elif strategy == "mode":
                modes = series.drop_nulls().mode().sort()
                value = modes[0] if len(modes) else None
            else:
                value = self.value
            if strategy in ("mean", "median") and value is not None and series.dtype.is_integer():
                value = round(value)  # an integer column stays integer
            if value is None and missing:
                raise ctx.error(f"column {column!r} has no values to compute the {strategy} from.")
            try:
                frame = frame.with_columns(pl.col(column).fill_null(pl.lit(value)))
            except pl.exceptions.PolarsError as exc:
                raise ctx.error(f"cannot fill column {column!r} ({series.dtype}) with {value!r}: {exc}") from None
            filled[column] = {"value": value, "filled": missing}
            total += missing
        return Outcome(frame, flagged=total, details={"filled": filled})


class DuplicatesStep(StepBase):
    """Drop or flag rows that repeat an earlier row (on all columns, or on `subset`)."""

    op: Literal["duplicates"]
    subset: OptionalColumns = None
    action: Annotated[DuplicateAction, one_of(DuplicateAction)] = "drop"
    flag_column: OptionalText = Field(None, description="With action flag (default: is_duplicate).")
    example: ClassVar[dict[str, Any]] = {"op": "duplicates", "subset": ["id"], "action": "flag",
                                         "flag_column": "repeated"}

    def describe(self) -> str:
        return f"{self.action} duplicate rows" + (f" by {column_text(self.subset)}" if self.subset else "")

    def apply(self, ctx: Context) -> Outcome:
        subset = ctx.columns(self.subset)
        if len(set(subset)) != len(subset):
            raise ctx.error("a column is listed twice.")
        duplicate = ctx.frame.select(~pl.struct(subset).is_first_distinct()).to_series()
        count = int(duplicate.sum())
        if self.action == "drop":
            return Outcome(ctx.frame.filter(~duplicate), flagged=count, details={"duplicates": count})
        flag = self.flag_column or "is_duplicate"
        return Outcome(ctx.frame.with_columns(duplicate.alias(flag)), flagged=count, details={"duplicates": count})


class OutliersStep(StepBase):
    """Find values outside bounds (interquartile range, z-score or given bounds) and clip, null, flag or drop them."""

    op: Literal["outliers"]
    columns: Columns
    method: Annotated[OutlierMethod, one_of(OutlierMethod)] = "iqr"
    action: Annotated[OutlierAction, one_of(OutlierAction)] = "clip"
    k: OptionalNumber = Field(None, description="IQR multiplier of method iqr (default 1.5).")
    threshold: OptionalNumber = Field(None, description="Standard deviations of method zscore (default 3).")
    lower: OptionalNumber = None
    upper: OptionalNumber = None
    flag_column: OptionalText = Field(None, description="With action flag (default: <column>_outlier).")
    example: ClassVar[dict[str, Any]] = {"op": "outliers", "columns": ["spend"], "method": "bounds", "lower": 0,
                                         "upper": 1000.5, "action": "clip"}

    @model_validator(mode="after")
    def _bounds_given(self) -> OutliersStep:
        if self.method == "bounds" and self.lower is None and self.upper is None:
            raise rule_error("method 'bounds' needs 'lower' and/or 'upper'.")
        return self

    def describe(self) -> str:
        return f"{self.action} outliers of {column_text(self.columns)} ({self.method})"

    def _bounds(self, values: pl.Series) -> tuple[float | None, float | None]:
        if self.method == "iqr":
            q1, q3 = values.quantile(0.25, "linear"), values.quantile(0.75, "linear")
            k = float(1.5 if self.k is None else self.k)
            return (None, None) if q1 is None or q3 is None else (q1 - k * (q3 - q1), q3 + k * (q3 - q1))
        if self.method == "zscore":
            # A Float64 column's mean and deviation are floats (or None when it has no values).
            mean, std = cast(float | None, values.mean()), cast(float | None, values.std())
            t = float(3.0 if self.threshold is None else self.threshold)
            return (None, None) if mean is None or not std else (mean - t * std, mean + t * std)
        return self.lower, self.upper

    def apply(self, ctx: Context) -> Outcome:
        frame = ctx.frame
        bounds: dict[str, dict[str, Any]] = {}
        any_outlier = pl.Series([False] * frame.height)
        for column in ctx.columns(self.columns):
            series = frame.get_column(column)
            if not series.dtype.is_numeric():
                raise ctx.error(f"column {column!r} is {series.dtype}; outliers need a numeric column.")
            values = series.cast(pl.Float64)
            low, high = self._bounds(values)
            outside = ((values < low) if low is not None else pl.Series([False] * frame.height)).fill_null(False)
            if high is not None:
                outside = outside | (values > high).fill_null(False)
            count = int(outside.sum())
            bounds[column] = {"lower": low, "upper": high, "outliers": count}
            any_outlier = any_outlier | outside
            if self.action == "clip" and count:
                if series.dtype.is_integer():
                    # Integer columns stay integers: bounds move inwards to the nearest whole numbers.
                    low = None if low is None else float(math.ceil(low))
                    high = None if high is None else float(math.floor(high))
                    clipped = values.clip(low, high).cast(series.dtype)
                else:
                    clipped = values.clip(low, high)
                frame = frame.with_columns(clipped.alias(column))
            elif self.action == "null" and count:
                frame = frame.with_columns(pl.when(outside).then(None).otherwise(pl.col(column)).alias(column))
            elif self.action == "flag":
                frame = frame.with_columns(outside.alias(self.flag_column or f"{column}_outlier"))
        flagged = int(any_outlier.sum())
        if self.action == "drop":
            frame = frame.filter(~any_outlier)
        return Outcome(frame, flagged=flagged, details={"bounds": bounds})


class MapValuesStep(StepBase):
    """Replace values of a column by a mapping; unmapped values are kept, nulled or set to a default."""

    op: Literal["map_values"]
    column: Text
    mapping: Mapping
    unmapped: Annotated[Unmapped, one_of(Unmapped)] = "keep"
    default: Value = Field(None, description="The value of unmapped 'default'.")
    example: ClassVar[dict[str, Any]] = {"op": "map_values", "column": "grade", "mapping": {"1": "low", "2": 5},
                                         "unmapped": "default", "default": None}

    @model_validator(mode="after")
    def _default_given(self) -> MapValuesStep:
        if self.unmapped == "default" and not self.given("default"):
            raise rule_error("unmapped 'default' needs a 'default' value.")
        return self

    def describe(self) -> str:
        return f"map values of {self.column} ({len(self.mapping)} mappings)"

    def apply(self, ctx: Context) -> Outcome:
        column = ctx.column(self.column)
        series = ctx.frame.get_column(column)
        keys = list(self.mapping)
        old = pl.Series(keys).cast(series.dtype, strict=False) if series.dtype != pl.String else pl.Series(keys)
        if old.null_count():
            bad = [k for k, v in zip(keys, old.to_list(), strict=True) if v is None]
            raise ctx.error(f"the key(s) {', '.join(map(repr, bad))} cannot be compared with column "
                            f"{column!r} ({series.dtype}).")
        new = list(self.mapping.values())
        matched = int(series.is_in(old.implode()).sum()) if len(old) else 0
        try:
            if self.unmapped == "keep":
                result = series.replace(old, new)
            else:
                default = None if self.unmapped == "null" else self.default
                result = series.replace_strict(old, new, default=default)
        except pl.exceptions.PolarsError as exc:
            raise ctx.error(f"cannot map values of {column!r}: {str(exc).splitlines()[0]}") from None
        return Outcome(ctx.frame.with_columns(result.alias(column)), flagged=matched,
                       details={"mapped": matched, "unmapped": int(series.is_not_null().sum()) - matched})
