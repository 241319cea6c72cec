"""Data profiling: per-column statistics, top values and histograms as a plain JSON-ready dict.

Pure Polars (no database): statistics for all columns come from one lazy `select`, so a million rows
cost a few column scans rather than any Python loop over rows.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

HISTOGRAM_BINS = 20
TOP_VALUES = 10
LOW_CARDINALITY = 50


def column_kind(dtype: pl.DataType) -> str:
    """Return the profile's coarse kind of a column: numeric, boolean, categorical, datetime or other."""
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_numeric():
        return "numeric"
    if dtype.is_temporal():
        return "datetime"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "categorical"
    return "other"


def json_safe(value: Any) -> Any:
    """Make a scalar JSON-safe: NaN/inf become None, temporals become ISO strings."""
    if value is None:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (int, str, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def profile_frame(frame: pl.DataFrame | pl.LazyFrame) -> dict[str, Any]:
    """Profile a table: rows, columns, duplicate rows, memory and per-column statistics."""
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    rows = df.height
    schema = df.schema
    lazy = df.lazy()

    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        col = pl.col(name)
        missing = col.null_count()
        if dtype.is_float():
            missing = missing + col.is_nan().sum()
        exprs += [missing.alias(f"{name}\0missing"), col.n_unique().alias(f"{name}\0distinct")]
        if dtype.is_numeric():
            clean = col.filter(col.is_not_null() & (col.is_finite() if dtype.is_float() else pl.lit(True)))
            exprs += [
                clean.min().cast(pl.Float64).alias(f"{name}\0min"),
                clean.max().cast(pl.Float64).alias(f"{name}\0max"),
                clean.cast(pl.Float64).mean().alias(f"{name}\0mean"),
                clean.cast(pl.Float64).std().alias(f"{name}\0std"),
            ]
        elif dtype.is_temporal():
            exprs += [col.min().cast(pl.String).alias(f"{name}\0min"), col.max().cast(pl.String).alias(f"{name}\0max")]
    stats = lazy.select(exprs).collect().row(0, named=True) if exprs else {}

    columns = []
    for name, dtype in schema.items():
        kind = column_kind(dtype)
        missing = int(stats.get(f"{name}\0missing", 0))
        distinct = int(stats.get(f"{name}\0distinct", 0))
        entry: dict[str, Any] = {
            "name": name,
            "dtype": str(dtype),
            "kind": kind,
            "missing": missing,
            "missing_pct": round(100.0 * missing / rows, 4) if rows else 0.0,
            "distinct": distinct,
            "min": json_safe(stats.get(f"{name}\0min")),
            "max": json_safe(stats.get(f"{name}\0max")),
            "mean": json_safe(stats.get(f"{name}\0mean")),
            "std": json_safe(stats.get(f"{name}\0std")),
            "top_values": None,
            "histogram": None,
        }
        low_cardinality_int = dtype.is_integer() and distinct <= LOW_CARDINALITY
        if kind in ("categorical", "boolean") or low_cardinality_int:
            entry["top_values"] = _top_values(lazy, name)
        if kind == "numeric" and entry["min"] is not None:
            entry["histogram"] = _histogram(lazy, name, entry["min"], entry["max"], dtype.is_float())
        columns.append(entry)

    try:
        duplicates: int | None = rows - df.n_unique() if rows and df.width else 0
    except pl.exceptions.PolarsError:
        duplicates = None  # nested column types cannot be compared row by row
    return {
        "rows": rows,
        "columns": df.width,
        "duplicate_rows": duplicates,
        "memory_bytes": int(df.estimated_size()),
        "column_profiles": columns,
    }


def _top_values(lazy: pl.LazyFrame, name: str) -> list[dict[str, Any]]:
    counts = (lazy.select(pl.col(name).alias("value")).drop_nulls().group_by("value").len(name="count")
              .sort(["count", "value"], descending=[True, False]).head(TOP_VALUES).collect())
    return [{"value": json_safe(v), "count": int(c)} for v, c in counts.iter_rows()]


def _histogram(lazy: pl.LazyFrame, name: str, low: float, high: float, is_float: bool) -> dict[str, Any]:
    """Equal-width bins over [min, max]; the top edge falls into the last bin."""
    width = (high - low) / HISTOGRAM_BINS
    col = pl.col(name).cast(pl.Float64)
    values = col.filter(col.is_not_null() & col.is_finite()) if is_float else col.drop_nulls()
    if width <= 0:
        counts = [0] * HISTOGRAM_BINS
        counts[0] = int(lazy.select(values.len()).collect().item())
    else:
        binned = (lazy.select(((values - low) / width).floor().clip(0, HISTOGRAM_BINS - 1).cast(pl.Int32)
                              .alias("bin")).group_by("bin").len(name="count").collect())
        counts = [0] * HISTOGRAM_BINS
        for b, c in binned.iter_rows():
            counts[int(b)] = int(c)
    edges = [low + i * width for i in range(HISTOGRAM_BINS + 1)] if width > 0 else [low] * (HISTOGRAM_BINS + 1)
    return {"edges": [round(e, 10) for e in edges], "counts": counts}
