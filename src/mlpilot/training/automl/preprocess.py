"""Column typing and feature building for the AutoML engine: one learned plan per input column.

`Preprocessor.fit` looks at each feature column once and decides what it is:
  - dropped: all missing, constant, or ID-like (unique per row: an integer counter or a short code);
  - numeric (ints, floats, booleans, and string columns whose values are mostly numbers — "mixed type");
  - date (temporal columns, or strings that parse as dates) → year, month, day, weekday, hour, epoch days;
  - free text (long multi-word strings) → length, word count, digit / upper-case / punctuation shares;
  - categorical → integer codes by frequency (unseen or rare values become missing), plus the value's
    training frequency when the column has many levels.
`transform` gives the matrix tree models use (categorical codes listed in `categorical_`); `linear` gives the
one-hot, imputed and standardised matrix linear models use. Unseen categories and unparseable values at
predict time become missing, never an error; missing input columns are an error naming them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput

MAX_CODES = 255  # categorical levels kept as codes (the rest → one "other" code)
LOW_CARDINALITY = 16  # at most this many levels: one-hot for linear models
MIXED_NUMERIC_SHARE = 0.8  # a string column whose values are at least this share numbers is numeric
DATE_SHARE = 0.9
ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|index|idx|row)$|^id[_\s-]|^(id|uuid|guid)$", re.IGNORECASE)


@dataclass
class ColumnPlan:
    name: str
    kind: str  # numeric | mixed | bool | date | text | categorical | dropped
    reason: str = ""
    categories: list[str] = field(default_factory=list)
    frequencies: list[float] = field(default_factory=list)
    high_cardinality: bool = False
    mean: float = 0.0
    std: float = 1.0
    date_format: str | None = None


def _numeric_share(values: pl.Series) -> float:
    if values.len() == 0:
        return 0.0
    parsed = values.str.strip_chars().cast(pl.Float64, strict=False)
    return float(parsed.is_not_null().sum()) / values.len()


DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%d/%m/%Y",
                "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")


def _parse_dates(series: pl.Series, fmt: str | None = None) -> pl.Series:
    """Strings → datetimes with `fmt` (or polars' inference); missing where a value does not parse."""
    text = series.cast(pl.String).str.strip_chars()
    try:
        return text.str.to_datetime(format=fmt, strict=False, exact=True, time_unit="us")
    except pl.exceptions.PolarsError:
        return pl.Series(series.name, [None] * series.len(), dtype=pl.Datetime("us"))


def _mean(values: pl.Series) -> float:
    """The mean of a numeric series, 0 when it has no values."""
    mean = values.mean()
    return float(mean) if isinstance(mean, int | float) else 0.0


def _date_format(sample: pl.Series) -> str | None:
    """The format that parses at least DATE_SHARE of `sample`, if any."""
    if sample.len() < 3 or _mean(sample.str.len_chars()) < 6:
        return None
    for fmt in DATE_FORMATS:
        if _parse_dates(sample, fmt).is_not_null().sum() >= DATE_SHARE * sample.len():
            return fmt
    return None


class Preprocessor:
    """Learns a per-column plan on the training frame; turns any frame with those columns into matrices."""

    def __init__(self) -> None:
        self.plans: list[ColumnPlan] = []
        self.feature_names_: list[str] = []
        self.categorical_: list[int] = []
        self.linear_names_: list[str] = []

    # ---------------------------------------------------------------- fit
    def fit(self, frame: pl.DataFrame, features: list[str]) -> Preprocessor:
        n = frame.height
        self.inputs_ = list(features)
        self.plans = [self._plan(frame[name], n) for name in features]
        if not any(p.kind != "dropped" for p in self.plans):
            reasons = "; ".join(f"{p.name}: {p.reason}" for p in self.plans)
            raise InvalidInput(f"No usable feature column is left after dropping unusable ones ({reasons}).")
        names: list[str] = []
        categorical: list[int] = []
        for plan in self.plans:
            for suffix in self._suffixes(plan):
                if suffix == "" and plan.kind == "categorical":
                    categorical.append(len(names))
                names.append(plan.name + suffix)
        self.feature_names_, self.categorical_ = names, categorical
        self._fit_linear(frame)
        return self

    def _plan(self, series: pl.Series, n: int) -> ColumnPlan:
        name = series.name
        dtype = series.dtype
        if dtype.is_float():
            series = series.fill_nan(None)
        non_null = series.drop_nulls()
        if non_null.len() == 0:
            return ColumnPlan(name, "dropped", "every value is missing")
        distinct = non_null.n_unique()
        if distinct == 1:
            return ColumnPlan(name, "dropped", "constant")
        if dtype == pl.Boolean:
            return ColumnPlan(name, "bool")
        if dtype.is_temporal():
            return ColumnPlan(name, "date")
        if dtype.is_numeric():
            if dtype.is_integer() and distinct == non_null.len() and n >= 20 and (
                    ID_NAME.search(name) or bool((non_null.diff().drop_nulls() == 1).all())):
                return ColumnPlan(name, "dropped", "ID-like (a different integer on every row)")
            return ColumnPlan(name, "numeric")
        values = non_null.cast(pl.String)
        if _numeric_share(values) >= MIXED_NUMERIC_SHARE:
            return ColumnPlan(name, "mixed")
        date_format = _date_format(values.head(2000))
        if date_format is not None:
            return ColumnPlan(name, "date", date_format=date_format)
        mean_words = _mean(values.str.count_matches(r"\S+"))
        unique_share = distinct / non_null.len()
        if mean_words >= 3 and unique_share > 0.3:
            return ColumnPlan(name, "text")
        if unique_share > 0.95 and distinct > 50 and (ID_NAME.search(name) or mean_words <= 1):
            return ColumnPlan(name, "dropped", "ID-like (a different value on every row)")
        counts = values.value_counts(sort=True)
        levels = counts[values.name].to_list()
        freq = (counts["count"] / values.len()).to_list()
        kept = [(str(v), f) for v, f, c in zip(levels, freq, counts["count"].to_list(), strict=True)
                if c >= 2 or len(levels) <= 50][:MAX_CODES]
        if not kept:  # every value rare: keep the most frequent ones anyway
            kept = [(str(v), f) for v, f in zip(levels, freq, strict=True)][:MAX_CODES]
        return ColumnPlan(name, "categorical", categories=[k for k, _ in kept], frequencies=[f for _, f in kept],
                          high_cardinality=distinct > LOW_CARDINALITY)

    @staticmethod
    def _suffixes(plan: ColumnPlan) -> list[str]:
        if plan.kind == "dropped":
            return []
        if plan.kind == "date":
            return [".year", ".month", ".day", ".weekday", ".hour", ".epoch_days"]
        if plan.kind == "text":
            return [".length", ".words", ".digits", ".upper", ".punct"]
        if plan.kind == "categorical" and plan.high_cardinality:
            return ["", ".frequency"]
        return [""]

    # ---------------------------------------------------------- transform
    def check_columns(self, frame: pl.DataFrame) -> None:
        needed = [p.name for p in self.plans if p.kind != "dropped"]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InvalidInput(f"Missing input column(s): {', '.join(missing)}.")

    def _column(self, plan: ColumnPlan, series: pl.Series) -> list[np.ndarray]:
        n = series.len()
        if plan.kind in ("numeric", "bool"):
            out = series.cast(pl.Float64, strict=False)
            if series.dtype.is_float():
                out = out.fill_nan(None)
            return [out.to_numpy().astype(np.float64)]
        if plan.kind == "mixed":
            text = series.cast(pl.String).str.strip_chars()
            return [text.cast(pl.Float64, strict=False).to_numpy().astype(np.float64)]
        if plan.kind == "date":
            if series.dtype.is_temporal():
                moment = series.cast(pl.Datetime("us")) if series.dtype != pl.Time else None
            else:
                moment = _parse_dates(series, plan.date_format)
            if moment is None:
                return [np.full(n, np.nan)] * 6
            parts = [moment.dt.year(), moment.dt.month(), moment.dt.day(), moment.dt.weekday(), moment.dt.hour(),
                     moment.dt.epoch("s") / 86400.0]
            return [p.cast(pl.Float64).to_numpy().astype(np.float64) for p in parts]
        if plan.kind == "text":
            text = series.cast(pl.String)
            length = text.str.len_chars().cast(pl.Float64)
            denominator = length.clip(1, None)
            parts = [length, text.str.count_matches(r"\S+").cast(pl.Float64),
                     text.str.count_matches(r"[0-9]").cast(pl.Float64) / denominator,
                     text.str.count_matches(r"[A-Z]").cast(pl.Float64) / denominator,
                     text.str.count_matches(r"[^\w\s]").cast(pl.Float64) / denominator]
            return [p.to_numpy().astype(np.float64) for p in parts]
        # categorical
        lookup = {value: float(i) for i, value in enumerate(plan.categories)}
        codes = series.cast(pl.String).replace_strict(lookup, default=None, return_dtype=pl.Float64)
        encoded = [codes.to_numpy().astype(np.float64)]
        if plan.high_cardinality:
            freq = {value: f for value, f in zip(plan.categories, plan.frequencies, strict=True)}
            encoded.append(series.cast(pl.String).replace_strict(freq, default=0.0, return_dtype=pl.Float64)
                           .fill_null(0.0).to_numpy().astype(np.float64))
        return encoded

    def transform(self, frame: pl.DataFrame) -> np.ndarray:
        """The matrix for tree models: one float column per feature name, NaN for missing."""
        self.check_columns(frame)
        columns: list[np.ndarray] = []
        for plan in self.plans:
            if plan.kind != "dropped":
                columns.extend(self._column(plan, frame[plan.name]))
        matrix = np.column_stack(columns) if columns else np.empty((frame.height, 0))
        matrix = matrix.astype(np.float64, copy=False)
        matrix[~np.isfinite(matrix)] = np.nan
        return matrix

    # ------------------------------------------------------------- linear
    def _fit_linear(self, frame: pl.DataFrame) -> None:
        matrix = self.transform(frame)
        self._lin_center = np.zeros(matrix.shape[1])
        self._lin_scale = np.ones(matrix.shape[1])
        self._lin_onehot: dict[int, int] = {}
        names: list[str] = []
        for j, name in enumerate(self.feature_names_):
            column = matrix[:, j]
            if j in self.categorical_:
                levels = self._categorical_plan(j)
                k = min(len(levels), LOW_CARDINALITY)
                self._lin_onehot[j] = k
                names.extend(f"{name}={levels[i]}" for i in range(k))
                continue
            finite = column[~np.isnan(column)]
            center = float(np.median(finite)) if finite.size else 0.0
            scale = float(np.std(finite)) if finite.size else 1.0
            self._lin_center[j] = center
            self._lin_scale[j] = scale if scale > 1e-12 and math.isfinite(scale) else 1.0
            names.append(name)
            if np.isnan(column).any():
                names.append(f"{name}.missing")
        self._lin_missing = [j for j in range(matrix.shape[1]) if j not in self._lin_onehot
                             and np.isnan(matrix[:, j]).any()]
        self.linear_names_ = names

    def _categorical_plan(self, index: int) -> list[str]:
        name = self.feature_names_[index]
        return next(p.categories for p in self.plans if p.name == name)

    def linear(self, matrix: np.ndarray) -> np.ndarray:
        """From `transform`'s matrix: one-hot low-cardinality codes, impute, standardise, clip outliers."""
        parts: list[np.ndarray] = []
        missing = set(self._lin_missing)
        for j in range(matrix.shape[1]):
            column = matrix[:, j]
            if j in self._lin_onehot:
                k = self._lin_onehot[j]
                codes = np.nan_to_num(column, nan=-1.0).astype(np.int64)
                onehot = np.zeros((column.shape[0], k))
                rows = np.flatnonzero((codes >= 0) & (codes < k))
                onehot[rows, codes[rows]] = 1.0
                parts.append(onehot)
                continue
            z = (column - self._lin_center[j]) / self._lin_scale[j]
            nan = np.isnan(z)
            parts.append(np.clip(np.where(nan, 0.0, z), -5, 5)[:, None])
            if j in missing:
                parts.append(nan.astype(np.float64)[:, None])
        return np.hstack(parts) if parts else np.empty((matrix.shape[0], 0))

    def describe(self) -> dict[str, Any]:
        """Per-column decisions, for bench_info / the model manifest."""
        return {p.name: (p.kind if p.kind != "dropped" else f"dropped: {p.reason}") for p in self.plans}
