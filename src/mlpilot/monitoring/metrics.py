"""Traffic and latency metrics from inference-log rows: pure Polars over plain frames, no database.

A log frame has columns ts (UTC datetime), latency_ms, status_code, rows and optionally service.
A request counts as an error when its status code is 400 or above.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

LOG_SCHEMA: dict[str, Any] = {"service": pl.String, "ts": pl.Datetime("us", "UTC"), "latency_ms": pl.Float64,
                              "status_code": pl.Int64, "rows": pl.Int64}


@dataclass(frozen=True)
class Totals:
    requests: int
    errors: int
    rows: int
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


@dataclass(frozen=True)
class Bucket:
    start: dt.datetime
    requests: int
    errors: int
    rows: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


@dataclass(frozen=True)
class ServiceMetrics:
    since: dt.datetime
    until: dt.datetime
    bucket_seconds: int
    totals: Totals
    series: list[Bucket]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def log_frame(rows: list[tuple[Any, ...]] | list[dict[str, Any]], *, with_service: bool = True) -> pl.DataFrame:
    """Build a log frame from (service, ts, latency_ms, status_code, rows) tuples or dicts."""
    schema = LOG_SCHEMA if with_service else {k: v for k, v in LOG_SCHEMA.items() if k != "service"}
    if rows and isinstance(rows[0], dict):
        return pl.DataFrame(rows, schema=schema)
    return pl.DataFrame(rows, schema=schema, orient="row")


def _aggregations() -> list[pl.Expr]:
    latency = pl.col("latency_ms")
    return [
        pl.len().alias("requests"),
        (pl.col("status_code") >= 400).sum().alias("errors"),
        pl.col("rows").sum().alias("rows"),
        latency.quantile(0.50, "linear").alias("latency_p50_ms"),
        latency.quantile(0.95, "linear").alias("latency_p95_ms"),
        latency.quantile(0.99, "linear").alias("latency_p99_ms"),
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _totals(row: dict[str, Any] | None) -> Totals:
    if not row or not row["requests"]:
        return Totals(requests=0, errors=0, rows=0, error_rate=0.0, latency_p50_ms=None, latency_p95_ms=None,
                      latency_p99_ms=None)
    requests = int(row["requests"])
    errors = int(row["errors"] or 0)
    return Totals(requests=requests, errors=errors, rows=int(row["rows"] or 0), error_rate=round(errors / requests, 4),
                  latency_p50_ms=_round(row["latency_p50_ms"]), latency_p95_ms=_round(row["latency_p95_ms"]),
                  latency_p99_ms=_round(row["latency_p99_ms"]))


def compute_totals(frame: pl.DataFrame) -> Totals:
    """Return request, error and row counts and latency percentiles over the whole frame."""
    if frame.height == 0:
        return _totals(None)
    return _totals(frame.select(_aggregations()).row(0, named=True))


def totals_by_service(frame: pl.DataFrame) -> dict[str, Totals]:
    """Return totals per value of the frame's `service` column."""
    if frame.height == 0:
        return {}
    grouped = frame.group_by("service").agg(_aggregations())
    return {row["service"]: _totals(row) for row in grouped.iter_rows(named=True)}


def compute_series(frame: pl.DataFrame, *, since: dt.datetime, until: dt.datetime,
                   bucket_seconds: int) -> list[Bucket]:
    """Return one bucket per `bucket_seconds` from `since` to `until`, empty buckets included."""
    if bucket_seconds <= 0:
        raise ValueError("bucket_seconds must be positive")
    first = int(since.timestamp()) // bucket_seconds * bucket_seconds
    last = int(until.timestamp()) // bucket_seconds * bucket_seconds
    starts = pl.DataFrame({"bucket": pl.int_range(first, last + bucket_seconds, bucket_seconds, eager=True,
                                                  dtype=pl.Int64)})
    if frame.height:
        stats = (frame.with_columns((pl.col("ts").dt.epoch("s") // bucket_seconds * bucket_seconds).alias("bucket"))
                 .group_by("bucket").agg(_aggregations()))
        joined = starts.join(stats, on="bucket", how="left")
    else:
        joined = starts.with_columns(pl.lit(None, dtype=pl.UInt32).alias("requests"))
    buckets = []
    for row in joined.iter_rows(named=True):
        start = dt.datetime.fromtimestamp(row["bucket"], dt.UTC)
        requests = int(row.get("requests") or 0)
        if requests == 0:
            buckets.append(Bucket(start=start, requests=0, errors=0, rows=0, latency_p50_ms=None,
                                  latency_p95_ms=None, latency_p99_ms=None))
            continue
        buckets.append(Bucket(start=start, requests=requests, errors=int(row["errors"] or 0),
                              rows=int(row["rows"] or 0), latency_p50_ms=_round(row["latency_p50_ms"]),
                              latency_p95_ms=_round(row["latency_p95_ms"]),
                              latency_p99_ms=_round(row["latency_p99_ms"])))
    return buckets


def compute_metrics(frame: pl.DataFrame, *, since: dt.datetime, until: dt.datetime,
                    bucket_seconds: int) -> ServiceMetrics:
    """Return totals and the bucketed series of a service's log frame over [since, until]."""
    return ServiceMetrics(since=since, until=until, bucket_seconds=bucket_seconds, totals=compute_totals(frame),
                          series=compute_series(frame, since=since, until=until, bucket_seconds=bucket_seconds))
