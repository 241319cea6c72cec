"""Comparing two versions of a dataset: schema changes, row counts and per-column statistic shifts.

Pure: functions over Polars frames (lazy frames are aggregated without loading the data) and plain dicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

TOP_VALUES = 5
# Thresholds for calling a shift notable: missing share moved by 5 points, mean moved by a quarter std.
MISSING_SHIFT_PCT = 5.0
MEAN_SHIFT_STD = 0.25


@dataclass(frozen=True)
class FrameSummary:
    """The statistics a diff compares, per column."""

    rows: int
    schema: dict[str, str]
    columns: dict[str, dict[str, Any]]


def _is_categorical(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Boolean) or isinstance(dtype, (pl.Categorical, pl.Enum))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def summarize(frame: pl.DataFrame | pl.LazyFrame, *, top: int = TOP_VALUES) -> FrameSummary:
    """Return rows, dtypes and per-column missing %, distinct, mean/std (numeric) and top values (categorical)."""
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    aggs: list[pl.Expr] = [pl.len().alias("__rows")]
    for i, (name, dtype) in enumerate(schema.items()):
        col = pl.col(name)
        missing = (col.is_null() | col.is_nan()) if dtype.is_float() else col.is_null()
        aggs += [missing.sum().alias(f"m{i}"), col.n_unique().alias(f"d{i}")]
        if dtype.is_numeric():
            valid = col.filter(~col.is_nan()) if dtype.is_float() else col
            aggs += [valid.cast(pl.Float64).mean().alias(f"mean{i}"), valid.cast(pl.Float64).std().alias(f"std{i}")]
    queries = [lazy.select(aggs)]
    categorical = [name for name, dtype in schema.items() if _is_categorical(dtype)]
    for name in categorical:
        queries.append(lazy.select(pl.col(name)).drop_nulls().group_by(name).len()
                       .sort(["len", name], descending=[True, False]).head(top))
    results = pl.collect_all(queries)
    stats = results[0].row(0, named=True)
    rows = int(stats["__rows"])
    columns: dict[str, dict[str, Any]] = {}
    for i, (name, dtype) in enumerate(schema.items()):
        missing_count = int(stats[f"m{i}"])
        columns[name] = {
            "missing_pct": round(100.0 * missing_count / rows, 4) if rows else 0.0,
            # n_unique counts null as a value; the diff speaks about real values.
            "distinct": int(stats[f"d{i}"]) - (1 if missing_count and not dtype.is_float() else 0),
            "mean": _number(stats.get(f"mean{i}")),
            "std": _number(stats.get(f"std{i}")),
            "top_values": None,
        }
    for name, top_frame in zip(categorical, results[1:], strict=True):
        columns[name]["top_values"] = [
            {"value": value, "count": int(count), "pct": round(100.0 * count / rows, 4) if rows else 0.0}
            for value, count in top_frame.iter_rows()
        ]
    return FrameSummary(rows=rows, schema={n: str(t) for n, t in schema.items()}, columns=columns)


def diff_summaries(a: FrameSummary, b: FrameSummary) -> dict[str, Any]:
    """Return how `b` differs from `a`: rows, added/removed/type-changed columns, per-column shifts."""
    added = [{"name": n, "dtype_b": t} for n, t in b.schema.items() if n not in a.schema]
    removed = [{"name": n, "dtype_a": t} for n, t in a.schema.items() if n not in b.schema]
    type_changed = [{"name": n, "dtype_a": a.schema[n], "dtype_b": t} for n, t in b.schema.items()
                    if n in a.schema and a.schema[n] != t]
    shifts = []
    for name in (n for n in a.schema if n in b.schema):
        ca, cb = a.columns[name], b.columns[name]
        shift: dict[str, Any] = {
            "name": name, "dtype_a": a.schema[name], "dtype_b": b.schema[name],
            "missing_pct_a": ca["missing_pct"], "missing_pct_b": cb["missing_pct"],
            "missing_pct_change": round(cb["missing_pct"] - ca["missing_pct"], 4),
            "distinct_a": ca["distinct"], "distinct_b": cb["distinct"],
            "mean_a": ca["mean"], "mean_b": cb["mean"], "std_a": ca["std"], "std_b": cb["std"],
            "mean_change": None, "mean_shift_std": None,
            "top_values_a": ca["top_values"], "top_values_b": cb["top_values"],
            "new_top_values": [], "gone_top_values": [],
        }
        if ca["mean"] is not None and cb["mean"] is not None:
            shift["mean_change"] = cb["mean"] - ca["mean"]
            if ca["std"]:
                shift["mean_shift_std"] = round(shift["mean_change"] / ca["std"], 4)
        if ca["top_values"] is not None and cb["top_values"] is not None:
            top_a = [t["value"] for t in ca["top_values"]]
            top_b = [t["value"] for t in cb["top_values"]]
            shift["new_top_values"] = [v for v in top_b if v not in top_a]
            shift["gone_top_values"] = [v for v in top_a if v not in top_b]
        shift["notable"] = bool(
            a.schema[name] != b.schema[name]
            or abs(shift["missing_pct_change"]) >= MISSING_SHIFT_PCT
            or (shift["mean_shift_std"] is not None and abs(shift["mean_shift_std"]) >= MEAN_SHIFT_STD)
            or shift["new_top_values"] or shift["gone_top_values"]
        )
        shifts.append(shift)
    return {
        "rows_a": a.rows, "rows_b": b.rows, "rows_change": b.rows - a.rows,
        "rows_change_pct": round(100.0 * (b.rows - a.rows) / a.rows, 4) if a.rows else None,
        "columns_a": len(a.schema), "columns_b": len(b.schema),
        "added": added, "removed": removed, "type_changed": type_changed, "columns": shifts,
    }


def diff_frames(a: pl.DataFrame | pl.LazyFrame, b: pl.DataFrame | pl.LazyFrame) -> dict[str, Any]:
    """Return how frame `b` differs from frame `a` (see diff_summaries)."""
    return diff_summaries(summarize(a), summarize(b))
