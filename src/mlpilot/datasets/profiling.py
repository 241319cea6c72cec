"""Data profiling: per-column statistics, distributions, correlations and target association as a JSON-ready dict.

Pure Polars (no database). A table up to `full_max_rows` rows is profiled exactly in memory with a few wide
`select`s; a larger lazy source is profiled in streaming mode — exact aggregates (counts, missing, min/max,
mean/std, text lengths, type shares, duplicate rows) from streaming scans, and the rest (quantiles,
histograms, top values, approximate distinct counts) from a seeded sample — and the profile says which it did.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.datasets import quality

HISTOGRAM_BINS = 20
TOP_VALUES = 10
LOW_CARDINALITY = 50
FULL_MAX_ROWS = 5_000_000
SAMPLE_ROWS = 100_000
MAX_CORRELATION_COLUMNS = 30
CORRELATION_ROWS = 50_000
DUPLICATES_MAX_STREAMED_ROWS = 50_000_000
MAX_ASSOCIATION_LEVELS = 50
# Integer columns whose values span at most this many are value-counted with one NumPy bincount (≤ 32 MiB of
# counters) instead of a hash table — 5-15x faster, same exact counts.
BINCOUNT_MAX_RANGE = 1 << 22
# The value-count field name cannot clash with a user column (NUL never appears in column names).
COUNT = "\0count"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DATE_PATTERN = (r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                r"|\d{4}년\s*\d{1,2}월\s*\d{1,2}일.*)\s*$")
# Statistics that streaming mode takes from the sample instead of the whole table.
SAMPLED_IN_STREAMING = ("quantiles", "histogram", "top_values", "correlations", "target_association",
                        "non_numeric_examples")
# Exact quantiles need a sort (or selection) per column — the single most expensive statistic — so above
# `sample_rows` rows they come from the seeded sample even in full mode, like correlations.
SAMPLED_IN_FULL = ("quantiles", "correlations", "target_association", "non_numeric_examples")

Progress = Callable[[float, str], None]


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


def _round(value: Any, digits: int = 6) -> Any:
    value = json_safe(value)
    return round(value, digits) if isinstance(value, float) else value


def profile_frame(frame: pl.DataFrame | pl.LazyFrame, *, target: str | None = None, task: str | None = None,
                  full_max_rows: int = FULL_MAX_ROWS, sample_rows: int = SAMPLE_ROWS, sampled: bool = False,
                  seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
    """Profile a table: shape, duplicates, per-column statistics, correlations, target association, warnings.

    `sampled=True` profiles only a seeded sample of `sample_rows` rows (mode "sampled"); otherwise a lazy
    source with more than `full_max_rows` rows is profiled in streaming mode.
    """
    started = time.perf_counter()
    report = progress or (lambda _fraction, _message: None)
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    _check_request(schema, target=target, task=task, sample_rows=sample_rows)
    report(0.02, "reading data")
    data, rows, mode = _load(frame, sampled=sampled, full_max_rows=full_max_rows, sample_rows=sample_rows, seed=seed)
    source = data.lazy() if data is not None else frame.lazy()

    report(0.15, "column statistics")
    exact = mode != "streaming"
    stats = _statistics(source, schema, exact=exact, data=data)
    if mode == "streaming":
        report(0.45, "drawing a sample")
        sample = _sample(frame, rows, sample_rows, seed)
    base_rows = data.height if data is not None else rows
    columns = [_column_entry(name, dtype, stats, base_rows, exact=exact) for name, dtype in schema.items()]
    if data is not None:
        # Gathering text columns is the costly part of sampling; only the columns the sample serves are taken.
        needed = [c["name"] for c in columns if target is not None or c["kind"] == "numeric"
                  or 0 < c.get("numeric_share", 0) < 1]
        sample = data.select(needed)
        sample = sample if sample.height <= sample_rows else sample.sample(n=sample_rows, seed=seed)

    report(0.55, "distributions")
    _add_shapes(data if data is not None else sample, sample, schema, columns)
    for entry in columns:
        entry["inferred_type"] = quality.infer_type(entry, base_rows)

    report(0.7, "duplicate rows")
    duplicates = _duplicate_rows(source, columns, base_rows, streaming=not exact) if len(schema) else 0

    report(0.8, "correlations")
    correlations = _correlations(sample, columns)
    target_info, association = None, []
    if target is not None:
        report(0.9, "association with the target")
        target_info = _target_summary(source, target, schema[target], columns, task, streaming=not exact)
        association = _target_association(sample, target, target_info["task"], columns)

    profile: dict[str, Any] = {
        "rows": rows,
        "columns": len(schema),
        "mode": mode,
        "sample_rows": None if mode == "full" and base_rows <= sample_rows else sample.height,
        "sampled_statistics": (list(SAMPLED_IN_STREAMING) if mode == "streaming"
                               else ["everything"] if mode == "sampled"
                               else list(SAMPLED_IN_FULL) if base_rows > sample_rows else []),
        "seed": seed,
        "duplicate_rows": duplicates,
        "memory_bytes": int(data.estimated_size()) if data is not None else None,
        "column_profiles": columns,
        "correlations": correlations,
        "target": target_info,
        "target_association": association,
    }
    report(0.97, "quality warnings")
    profile["warnings"] = quality.quality_warnings(profile)
    profile["seconds"] = round(time.perf_counter() - started, 3)
    report(1.0, "done")
    return profile


def _check_request(schema: pl.Schema, *, target: str | None, task: str | None, sample_rows: int) -> None:
    if target is not None and target not in schema:
        raise InvalidInput(f"The target column {target!r} is not in the table; its columns are "
                           f"{', '.join(map(repr, list(schema)[:30]))}.")
    if task not in (None, "classification", "regression"):
        raise InvalidInput(f"task must be 'classification' or 'regression'; got {task!r}.")
    if sample_rows < 1:
        raise InvalidInput(f"The sample size must be at least 1 row; got {sample_rows}.")


def _load(frame: pl.DataFrame | pl.LazyFrame, *, sampled: bool, full_max_rows: int, sample_rows: int,
          seed: int) -> tuple[pl.DataFrame | None, int, str]:
    """Choose the mode and load what it profiles in memory: (the rows in memory or None, the row count, the mode)."""
    data: pl.DataFrame | None
    if isinstance(frame, pl.DataFrame):
        data, rows = frame, frame.height
    elif sampled:
        data, rows = None, _count(frame)
    else:
        # Reading up to the threshold decides the mode in the same pass that loads a table that fits.
        data = frame.head(full_max_rows + 1).collect(engine="streaming")
        rows = data.height
        if rows > full_max_rows:
            data, rows = None, _count(frame)
    if sampled and rows > sample_rows:
        return _sample(frame, rows, sample_rows, seed), rows, "sampled"
    if sampled and data is None:
        return frame.collect(engine="streaming"), rows, "full"  # type: ignore[union-attr]
    return data, rows, "full" if data is not None else "streaming"


def _count(frame: pl.LazyFrame) -> int:
    return int(frame.select(pl.len()).collect(engine="streaming").item())


def _collect(lazy: pl.LazyFrame, *, streaming: bool) -> dict[str, Any]:
    result = lazy.collect(engine="streaming") if streaming else lazy.collect()
    return result.row(0, named=True) if result.width else {}


def _sample(frame: pl.DataFrame | pl.LazyFrame, rows: int, sample_rows: int, seed: int) -> pl.DataFrame:
    """Draw a seeded sample of about `sample_rows` rows; a lazy source is filtered by a hash of the row index."""
    if rows <= sample_rows:
        return frame.collect(engine="streaming") if isinstance(frame, pl.LazyFrame) else frame
    if isinstance(frame, pl.DataFrame):
        return frame.sample(n=sample_rows, seed=seed)
    # Bernoulli sampling by hashing the row number streams through the source without holding it.
    buckets = 1_000_000
    keep = max(1, round(buckets * sample_rows / rows))
    index = "__mlpilot_row__"
    return (frame.with_row_index(index).filter(pl.col(index).hash(seed) % buckets < keep).drop(index)
            .collect(engine="streaming"))


def _text(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return col.cast(pl.String) if dtype != pl.String else col


def _text_exprs(text: pl.Expr, name: str, weight: pl.Expr | None = None) -> list[pl.Expr]:
    """Text lengths in characters (not bytes: "서울" has length 2), empties and the shares that parse as numbers
    or dates. With `weight`, `text` holds distinct values and `weight` their counts."""
    w = weight if weight is not None else pl.lit(1)
    stripped = text.str.strip_chars()
    length = text.str.len_chars()
    return [
        length.min().alias(f"{name}\0len_min"),
        length.max().alias(f"{name}\0len_max"),
        ((length * w).sum() / w.filter(text.is_not_null()).sum()).alias(f"{name}\0len_mean"),
        ((stripped == "") * w).sum().alias(f"{name}\0empty"),
        (stripped.cast(pl.Float64, strict=False).is_not_null() * w).sum().alias(f"{name}\0numeric"),
        (text.str.contains(DATE_PATTERN) * w).sum().alias(f"{name}\0dates"),
    ]


def _stat_exprs(schema: pl.Schema, *, exact: bool, counted_later: frozenset[str] = frozenset()) -> list[pl.Expr]:
    """One wide select: missing, value counts or distinct estimates, min/max/mean/std and (streaming) text stats.

    Distinct counts of floats are HyperLogLog estimates (exact counting hashes every value and almost every
    float is distinct anyway). Other columns get an exact value count, from which distinct counts, top values
    and the text statistics follow cheaply — except in streaming mode, where a value count could outgrow memory.
    Columns in `counted_later` get their value count afterwards (integers: see `_count_integers`).
    """
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        col = pl.col(name)
        exprs.append(col.null_count().alias(f"{name}\0nulls"))
        if dtype.is_float():
            exprs.append(col.is_nan().sum().alias(f"{name}\0nans"))
        if name in counted_later:
            pass
        elif exact and not dtype.is_float() and column_kind(dtype) != "other":
            exprs.append(col.drop_nulls().value_counts(name=COUNT).implode().alias(f"{name}\0vc"))
        else:
            exprs.append(col.approx_n_unique().alias(f"{name}\0approx"))
        if dtype.is_numeric():
            clean = col.filter(col.is_finite()) if dtype.is_float() else col
            value = clean.cast(pl.Float64)
            exprs += [
                clean.min().cast(pl.Float64).alias(f"{name}\0min"),
                clean.max().cast(pl.Float64).alias(f"{name}\0max"),
                value.mean().alias(f"{name}\0mean"),
                value.std().alias(f"{name}\0std"),
                (value == 0).sum().alias(f"{name}\0zeros"),
            ]
        elif dtype.is_temporal():
            exprs += [col.min().cast(pl.String).alias(f"{name}\0min"),
                      col.max().cast(pl.String).alias(f"{name}\0max")]
        elif dtype == pl.Boolean:
            exprs.append(col.sum().alias(f"{name}\0true"))
        elif column_kind(dtype) == "categorical" and not exact:
            exprs += _text_exprs(_text(col, dtype), name)
    return exprs


def _statistics(source: pl.LazyFrame, schema: pl.Schema, *, exact: bool,
                data: pl.DataFrame | None = None) -> dict[str, Any]:
    """Run the wide select and derive distinct counts, top values and text statistics from the value counts."""
    integers = frozenset(n for n, t in schema.items() if t.is_integer()) if exact and data is not None else frozenset()
    query = source.select(_stat_exprs(schema, exact=exact, counted_later=integers))
    result = query.collect() if exact else query.collect(engine="streaming")
    counted = [c for c in result.columns if c.endswith("\0vc")]
    stats = result.drop(counted).row(0, named=True) if result.width > len(counted) else {}
    for key in counted:
        name = key[:-3]
        counts = result.get_column(key)[0].struct.unnest()
        stats[f"{name}\0distinct"] = counts.height
        # Selection, not a sort: ties in count go to the smaller value, so the same data gives the same list.
        stats[f"{name}\0top"] = counts.top_k(TOP_VALUES, by=[COUNT, name], reverse=[False, True]).to_dicts()
        if column_kind(schema[name]) == "categorical":
            stats.update(counts.select(_text_exprs(_text(pl.col(name), schema[name]), name, pl.col(COUNT)))
                         .row(0, named=True))
    if integers and data is not None:
        stats.update(_count_integers(data, sorted(integers)))
    return stats


def _count_integers(data: pl.DataFrame, names: list[str]) -> dict[str, Any]:
    """Exact distinct counts and top values of integer columns: a bincount over the value range when it is small,
    a hash value count otherwise. Ties in count go to the smaller value, as in `_statistics`."""
    stats: dict[str, Any] = {}
    hashed: list[str] = []
    for name in names:
        values = data.get_column(name).drop_nulls()
        if values.is_empty():
            stats[f"{name}\0distinct"], stats[f"{name}\0top"] = 0, []
            continue
        low, high = int(values.min()), int(values.max())  # type: ignore[arg-type]
        if high - low >= BINCOUNT_MAX_RANGE or low < -(2**62) or high > 2**62:
            hashed.append(name)
            continue
        counts = np.bincount((values.cast(pl.Int64).to_numpy() - low), minlength=high - low + 1)
        present = np.flatnonzero(counts)
        order = present[np.lexsort((present, -counts[present]))[:TOP_VALUES]]
        stats[f"{name}\0distinct"] = int(present.size)
        stats[f"{name}\0top"] = [{name: int(i) + low, COUNT: int(counts[i])} for i in order]
    if hashed:
        result = data.select(pl.col(n).drop_nulls().value_counts(name=COUNT).implode() for n in hashed)
        for name in hashed:
            counts = result.get_column(name)[0].struct.unnest()
            stats[f"{name}\0distinct"] = counts.height
            stats[f"{name}\0top"] = counts.top_k(TOP_VALUES, by=[COUNT, name], reverse=[False, True]).to_dicts()
    return stats


def _column_entry(name: str, dtype: pl.DataType, stats: dict[str, Any], rows: int, *, exact: bool) -> dict[str, Any]:
    kind = column_kind(dtype)
    nulls, nans = int(stats.get(f"{name}\0nulls") or 0), int(stats.get(f"{name}\0nans") or 0)
    missing = nulls + nans
    if f"{name}\0distinct" in stats:
        distinct, distinct_exact = int(stats[f"{name}\0distinct"] or 0), True
    else:
        # The estimate counts null and NaN as values; the profile reports distinct non-missing values.
        estimate = int(stats.get(f"{name}\0approx") or 0) - (nulls > 0) - (nans > 0)
        distinct, distinct_exact = min(max(estimate, 1 if rows > missing else 0), rows - missing), False
    entry: dict[str, Any] = {
        "name": name,
        "dtype": str(dtype),
        "kind": kind,
        "missing": missing,
        "missing_pct": round(100.0 * missing / rows, 4) if rows else 0.0,
        "distinct": distinct,
        "distinct_exact": distinct_exact,
        "min": json_safe(stats.get(f"{name}\0min")),
        "max": json_safe(stats.get(f"{name}\0max")),
        "mean": json_safe(stats.get(f"{name}\0mean")),
        "std": json_safe(stats.get(f"{name}\0std")),
        "quantiles": None,
        "top_values": None,
        "histogram": None,
    }
    if dtype.is_numeric():
        entry["zeros"] = int(stats.get(f"{name}\0zeros") or 0)
    if dtype == pl.Boolean:
        entry["true"] = int(stats.get(f"{name}\0true") or 0)
    if f"{name}\0len_min" in stats:
        present = rows - missing
        entry["text_length"] = {"min": stats[f"{name}\0len_min"], "max": stats[f"{name}\0len_max"],
                                "mean": _round(stats[f"{name}\0len_mean"], 3)}
        entry["empty"] = int(stats[f"{name}\0empty"] or 0)
        entry["numeric_share"] = round(int(stats[f"{name}\0numeric"] or 0) / present, 6) if present else 0.0
        entry["date_share"] = round(int(stats[f"{name}\0dates"] or 0) / present, 6) if present else 0.0
    if f"{name}\0top" in stats and _wants_top_values(entry, dtype):
        entry["top_values"] = _top_list(name, stats[f"{name}\0top"])
    return entry


def _wants_top_values(entry: dict[str, Any], dtype: pl.DataType) -> bool:
    return entry["kind"] in ("categorical", "boolean") or (dtype.is_integer() and entry["distinct"] <= LOW_CARDINALITY)


def _top_list(name: str, counts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    top = [(json_safe(r[name]), int(r[COUNT])) for r in counts]
    # Ties in count are ordered by value so the same data always gives the same list.
    top.sort(key=lambda t: (-t[1], str(t[0])))
    return [{"value": v, "count": c} for v, c in top[:TOP_VALUES]]


def _finite_values(frame: pl.DataFrame, name: str) -> np.ndarray:
    values = frame.get_column(name).drop_nulls().cast(pl.Float64)
    return values.filter(values.is_finite()).to_numpy()


def _bin_counts(values: np.ndarray, low: float, high: float) -> list[int]:
    """Equal-width bins over [low, high]; the top edge falls into the last bin."""
    if not len(values):
        return [0] * HISTOGRAM_BINS
    if high <= low:
        return [len(values)] + [0] * (HISTOGRAM_BINS - 1)
    bins = ((values - low) * (HISTOGRAM_BINS / (high - low))).astype(np.int64)
    np.clip(bins, 0, HISTOGRAM_BINS - 1, out=bins)
    return [int(c) for c in np.bincount(bins, minlength=HISTOGRAM_BINS)]


def _add_shapes(frame: pl.DataFrame, sample: pl.DataFrame, schema: pl.Schema, columns: list[dict[str, Any]]) -> None:
    """Add histograms (over `frame`), quantiles, missing top values and non-numeric examples (over `sample`)."""
    numeric = [c for c in columns if c["kind"] == "numeric" and c["min"] is not None]
    # NumPy releases the GIL in the binning arithmetic, so two threads use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda c: _bin_counts(_finite_values(frame, c["name"]), float(c["min"]),
                                                     float(c["max"])), numeric))
    for entry, bin_counts in zip(numeric, counts, strict=True):
        low, high = float(entry["min"]), float(entry["max"])
        width = (high - low) / HISTOGRAM_BINS
        entry["histogram"] = {"edges": [round(low + i * width, 10) for i in range(HISTOGRAM_BINS + 1)],
                              "counts": bin_counts}

    exprs: list[pl.Expr] = []
    for entry in columns:
        name, dtype = entry["name"], schema[entry["name"]]
        col = pl.col(name)
        if entry in numeric:
            value = col.cast(pl.Float64)
            value = value.filter(value.is_finite())
            exprs += [value.quantile(q, "linear").alias(f"{name}\0q{q}") for q in QUANTILES]
        if entry["top_values"] is None and _wants_top_values(entry, dtype) and entry["distinct"]:
            exprs.append(col.drop_nulls().value_counts(sort=True, name=COUNT).head(TOP_VALUES).implode()
                         .alias(f"{name}\0top"))
        if entry["kind"] == "categorical" and 0 < entry.get("numeric_share", 0) < 1:
            text = _text(col, dtype)
            odd = text.filter(text.str.strip_chars().cast(pl.Float64, strict=False).is_null() & text.is_not_null())
            exprs.append(odd.unique(maintain_order=True).head(5).implode().alias(f"{name}\0odd"))
    if not exprs:
        return
    row = sample.select(exprs).row(0, named=True)
    for entry in columns:
        name = entry["name"]
        if f"{name}\0q{QUANTILES[0]}" in row:
            quantiles = {f"p{round(q * 100)}": _round(row[f"{name}\0q{q}"]) for q in QUANTILES}
            entry["quantiles"] = quantiles if any(v is not None for v in quantiles.values()) else None
        if f"{name}\0top" in row:
            entry["top_values"] = _top_list(name, row[f"{name}\0top"])
        if f"{name}\0odd" in row:
            entry["non_numeric_examples"] = [json_safe(v) for v in row[f"{name}\0odd"]]


def _duplicate_rows(source: pl.LazyFrame, columns: list[dict[str, Any]], rows: int, *, streaming: bool) -> int | None:
    """Count rows equal to an earlier row.

    A column without missing values whose values are all distinct proves there are none (cheap to check);
    otherwise one 64-bit hash per row is counted (collisions are negligible below billions of rows).
    """
    complete = [c for c in columns if c["missing"] == 0 and c["kind"] != "other" and c["distinct"] >= 0.99 * rows]
    if streaming and rows > DUPLICATES_MAX_STREAMED_ROWS:
        return None  # the hash set would need ~16 bytes per row: not cheap for a table this size
    for c in sorted(complete, key=lambda c: not c["distinct_exact"])[:2]:
        distinct = c["distinct"] if c["distinct_exact"] else _collect(
            source.select(pl.col(c["name"]).n_unique().alias("n")), streaming=streaming)["n"]
        if distinct == rows:
            return 0
    try:
        unique = _collect(source.select(pl.struct(pl.all()).hash(7).n_unique().alias("n")), streaming=streaming)
    except pl.exceptions.PolarsError:
        return None  # nested column types cannot be hashed row by row
    return rows - int(unique["n"])


def _numeric_columns(sample: pl.DataFrame, columns: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in columns
            if c["kind"] == "numeric" and c["inferred_type"] not in ("constant", "id")][:MAX_CORRELATION_COLUMNS]


def _pairwise_pearson(matrix: np.ndarray) -> np.ndarray:
    """Pearson r of every column pair over the rows where both are present (NaN marks missing), via k×k products."""
    present = ~np.isnan(matrix)
    weight = present.astype(np.float64)
    # Centring first keeps the sums of squares small, so large offsets (timestamps, codes) lose no precision.
    x = np.where(present, matrix - np.nanmean(matrix, axis=0), 0.0)
    n = weight.T @ weight
    sx = x.T @ weight  # [a, b]: sum of column a over the rows where b is present too
    sxx = (x * x).T @ weight
    numerator = n * (x.T @ x) - sx * sx.T
    denominator = np.sqrt(np.clip(n * sxx - sx**2, 0, None) * np.clip(n * sxx.T - sx.T**2, 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where((denominator > 0) & (n >= 3), numerator / denominator, np.nan)
    return np.clip(r, -1.0, 1.0)


def _correlations(sample: pl.DataFrame, columns: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Pearson and Spearman correlation matrices of the numeric columns, pairwise over complete rows."""
    names = _numeric_columns(sample, columns)
    if len(names) < 2 or sample.height < 3:
        return None
    sample = sample.head(CORRELATION_ROWS)  # already a random sample; 50,000 rows pin r to about ±0.005
    clean = sample.select([pl.col(n).cast(pl.Float64).fill_nan(None) for n in names])
    ranked = clean.select([pl.col(n).rank("average").cast(pl.Float64) for n in names])

    def matrix(frame: pl.DataFrame) -> list[list[float | None]]:
        r = _pairwise_pearson(frame.to_numpy().astype(np.float64))
        return [[1.0 if i == j else _round(float(r[i, j]), 4) for j in range(len(names))] for i in range(len(names))]

    return {"columns": names, "pearson": matrix(clean), "spearman": matrix(ranked), "rows": sample.height}


def _target_summary(source: pl.LazyFrame, target: str, dtype: pl.DataType, columns: list[dict[str, Any]],
                    task: str | None, *, streaming: bool) -> dict[str, Any]:
    entry = next(c for c in columns if c["name"] == target)
    if task is None:
        few = entry["distinct"] <= 20
        task = "regression" if dtype.is_float() and not few or (dtype.is_integer() and not few) else "classification"
        if column_kind(dtype) == "categorical" or dtype == pl.Boolean:
            task = "classification"
    info: dict[str, Any] = {"name": target, "task": task, "missing": entry["missing"], "classes": None}
    if task == "classification":
        query = source.select(pl.col(target).drop_nulls().value_counts(sort=True, name=COUNT))
        counts = query.collect(engine="streaming") if streaming else query.collect()
        classes = [(json_safe(r[target]), int(r[COUNT])) for r in counts.get_column(target).to_list()]
        classes.sort(key=lambda t: (-t[1], str(t[0])))
        info["classes"] = [{"value": v, "count": c} for v, c in classes[:1000]]
        info["class_count"] = len(classes)
    return info


def _lumped(expr: pl.Expr, sample: pl.DataFrame, name: str) -> pl.Expr:
    """Cast to text and lump all but the most frequent levels into one, so rare levels cannot inflate scores."""
    top = (sample.get_column(name).cast(pl.String).drop_nulls().value_counts(sort=True, name=COUNT)
           .head(MAX_ASSOCIATION_LEVELS).get_column(name))
    text = expr.cast(pl.String)
    return pl.when(text.is_in(top.implode())).then(text).otherwise(pl.when(text.is_null()).then(None)
                                                                      .otherwise(pl.lit("\0other")))


def _target_association(sample: pl.DataFrame, target: str, task: str,
                        columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score each column's association with the target, strongest first.

    Regression: numeric columns by Pearson r, categorical by the correlation ratio η. Classification:
    numeric columns by η (variance explained by the class), categorical by bias-corrected Cramér's V.
    """
    out = []
    y = pl.col(target)
    y_cat = _lumped(y, sample, target) if task == "classification" else None
    for entry in columns:
        name = entry["name"]
        if name == target or entry["inferred_type"] in ("constant", "id"):
            continue
        x = pl.col(name)
        numeric = entry["kind"] == "numeric" and entry["inferred_type"] == "numeric"
        if entry["kind"] not in ("numeric", "categorical", "boolean"):
            continue
        try:
            if task == "regression" and numeric:
                value, measure = _pearson(sample, x, y), "pearson"
            elif task == "regression":
                value, measure = _correlation_ratio(sample, y, _lumped(x, sample, name)), "correlation_ratio"
            elif numeric:
                assert y_cat is not None  # a classification target, lumped above
                value, measure = _correlation_ratio(sample, x, y_cat), "correlation_ratio"
            else:
                assert y_cat is not None
                value, measure = _cramers_v(sample, _lumped(x, sample, name), y_cat), "cramers_v"
        except pl.exceptions.PolarsError:
            continue
        if value is not None:
            out.append({"column": name, "measure": measure, "value": round(value, 4)})
    out.sort(key=lambda a: -abs(a["value"]))
    return out


def _pearson(sample: pl.DataFrame, x: pl.Expr, y: pl.Expr) -> float | None:
    xs, ys = x.cast(pl.Float64).fill_nan(None), y.cast(pl.Float64).fill_nan(None)
    both = xs.is_not_null() & ys.is_not_null()
    value: float | None = json_safe(sample.select(pl.corr(xs.filter(both), ys.filter(both))).item())
    return value


def _correlation_ratio(sample: pl.DataFrame, values: pl.Expr, groups: pl.Expr) -> float | None:
    """η = sqrt(between-group sum of squares / total sum of squares) of `values` grouped by `groups`."""
    frame = (sample.select(values.cast(pl.Float64).fill_nan(None).alias("v"), groups.alias("g"))
             .drop_nulls())
    if frame.height < 3:
        return None
    mean = frame.get_column("v").mean()
    total = frame.select(((pl.col("v") - mean) ** 2).sum()).item()
    if not total:
        return None
    between = (frame.group_by("g").agg(pl.len().alias("n"), pl.col("v").mean().alias("m"))
               .select((pl.col("n") * (pl.col("m") - mean) ** 2).sum()).item())
    return math.sqrt(max(0.0, min(1.0, between / total)))


def _cramers_v(sample: pl.DataFrame, x: pl.Expr, y: pl.Expr) -> float | None:
    """Bias-corrected Cramér's V (Bergsma 2013) from the contingency table of two categorical columns."""
    frame = sample.select(x.alias("x"), y.alias("y")).drop_nulls()
    n = frame.height
    if n < 3:
        return None
    cells = frame.group_by("x", "y").len("o")
    rows_total = cells.group_by("x").agg(pl.col("o").sum().alias("r"))
    cols_total = cells.group_by("y").agg(pl.col("o").sum().alias("c"))
    k, r = rows_total.height, cols_total.height
    if k < 2 or r < 2:
        return None
    chi2 = (cells.join(rows_total, on="x").join(cols_total, on="y")
            .select((pl.col("o").cast(pl.Float64) ** 2 * n / (pl.col("r").cast(pl.Float64) * pl.col("c"))).sum())
            .item()) - n
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    k_corr, r_corr = k - (k - 1) ** 2 / (n - 1), r - (r - 1) ** 2 / (n - 1)
    denominator = min(k_corr - 1, r_corr - 1)
    return math.sqrt(min(1.0, phi2 / denominator)) if denominator > 0 else None
