"""Live model quality and drift, pure computation (no database, no web): the building blocks of issue 5 item 6.

- `PredictionLog`: a bounded per-service map request id → (time, prediction) so ground truth sent later
  (`feedback`) can be joined to what the model answered. Oldest entries fall out first.
- `quality_by_window`: live accuracy (classification) or RMSE/MAE (regression) per time window.
- `Reservoir` / `LiveSample`: a bounded uniform sample (algorithm R) of input rows and predictions per service
  per time window, so drift can be computed without keeping all traffic.
- `window_drift`: per-feature drift of each window against a reference (training data or the first window),
  with the prediction column tested too, reusing `monitoring.drift.drift_report`.

`PredictionLog` lives in `dataplane.telemetry` (the data plane fills it; it may not import monitoring).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.dataplane.telemetry import PREDICTION_COLUMN, PredictionLog
from mlpilot.monitoring.drift import drift_report

__all__ = ["PREDICTION_COLUMN", "LiveSample", "Reservoir", "drift_over_windows", "window_drift"]


def window_start(ts: dt.datetime, window_s: int) -> dt.datetime:
    """Return the start of the `window_s`-second window holding `ts` (aligned on the epoch, UTC)."""
    if window_s <= 0:
        raise InvalidInput(f"The window must be a positive number of seconds, not {window_s}.")
    ts = ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)
    seconds = math.floor(ts.timestamp() / window_s) * window_s
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def join_feedback(log: PredictionLog, service: str,
                  feedback: Iterable[Mapping[str, Any]]) -> tuple[list[tuple[dt.datetime, Any, Any]], list[str]]:
    """Pair each {"request_id", "actual"} with the logged prediction; return (matched, unknown request ids)."""
    matched: list[tuple[dt.datetime, Any, Any]] = []
    unknown: list[str] = []
    for i, item in enumerate(feedback):
        if "request_id" not in item or "actual" not in item:
            raise InvalidInput(f"Feedback item {i} needs both 'request_id' and 'actual'; got {sorted(item)}.")
        found = log.get(service, str(item["request_id"]))
        if found is None:
            unknown.append(str(item["request_id"]))
        else:
            matched.append((found[0], found[1], item["actual"]))
    return matched, unknown


def quality_by_window(pairs: Iterable[tuple[dt.datetime, Any, Any]], *, task: str,
                      window_s: int) -> list[dict[str, Any]]:
    """Live quality per window from (time, prediction, actual): accuracy, or RMSE and MAE, with the count."""
    if task not in ("classification", "regression"):
        raise InvalidInput(f"Unknown task '{task}'; expected 'classification' or 'regression'.")
    buckets: dict[dt.datetime, list[tuple[Any, Any]]] = {}
    for ts, predicted, actual in pairs:
        buckets.setdefault(window_start(ts, window_s), []).append((predicted, actual))
    rows = []
    for start in sorted(buckets):
        items = buckets[start]
        row: dict[str, Any] = {"window_start": start, "count": len(items)}
        if task == "classification":
            row["accuracy"] = sum(str(p) == str(a) for p, a in items) / len(items)
        else:
            try:
                errors = [float(p) - float(a) for p, a in items]
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"Regression feedback must be numbers: {exc}.") from exc
            row["rmse"] = math.sqrt(sum(e * e for e in errors) / len(errors))
            row["mae"] = sum(abs(e) for e in errors) / len(errors)
        rows.append(row)
    return rows


class Reservoir:
    """A uniform random sample of at most `capacity` items from a stream (algorithm R); `seen` counts all."""

    def __init__(self, capacity: int, *, seed: int | None = None) -> None:
        if capacity <= 0:
            raise InvalidInput(f"A reservoir needs a positive capacity, not {capacity}.")
        self.capacity = capacity
        self.items: list[Any] = []
        self.seen = 0
        self._random = random.Random(seed)

    def add(self, item: Any) -> None:
        self.seen += 1
        if len(self.items) < self.capacity:
            self.items.append(item)
            return
        j = self._random.randrange(self.seen)
        if j < self.capacity:
            self.items[j] = item


class LiveSample:
    """Per service, per window: a reservoir of input rows, each with the model's prediction attached."""

    def __init__(self, capacity: int, window_s: int, *, max_windows: int = 48, seed: int | None = None) -> None:
        self.capacity, self.window_s, self.max_windows, self.seed = capacity, window_s, max_windows, seed
        self._windows: dict[str, OrderedDict[dt.datetime, Reservoir]] = {}
        self._lock = threading.Lock()

    def add(self, service: str, ts: dt.datetime, rows: Sequence[Mapping[str, Any]],
            predictions: Sequence[Any]) -> None:
        start = window_start(ts, self.window_s)
        with self._lock:
            windows = self._windows.setdefault(service, OrderedDict())
            reservoir = windows.get(start)
            if reservoir is None:
                reservoir = windows[start] = Reservoir(self.capacity, seed=self.seed)
                while len(windows) > self.max_windows:
                    windows.popitem(last=False)
            for row, prediction in zip(rows, predictions, strict=True):
                reservoir.add({**row, PREDICTION_COLUMN: prediction})

    def frames(self, service: str) -> list[tuple[dt.datetime, int, pl.DataFrame]]:
        """Return (window start, requests seen, sampled rows) per window, oldest first."""
        with self._lock:
            windows = list(self._windows.get(service, {}).items())
            return [(start, r.seen, pl.DataFrame(list(r.items))) for start, r in windows]


def window_drift(sample: LiveSample, service: str, *, reference: pl.DataFrame | None = None,
                 min_rows: int = 30) -> list[dict[str, Any]]:
    """Drift of each window of `sample` against `reference` (default: the first window); see `drift_over_windows`."""
    return drift_over_windows(sample.frames(service), reference=reference, min_rows=min_rows)


def drift_over_windows(frames: list[tuple[dt.datetime, int, pl.DataFrame]], *, reference: pl.DataFrame | None,
                       min_rows: int = 30) -> list[dict[str, Any]]:
    """Drift of each (window start, requests seen, sampled rows) against `reference`, features and prediction.

    Without a reference the first window is the reference (and is not reported). Windows with fewer than
    `min_rows` sampled rows are reported with `drift: None` (too few to tell). The prediction column is compared
    only when the reference has one (`PREDICTION_COLUMN`).
    """
    if not frames:
        return []
    if reference is None:
        reference, frames = frames[0][2], frames[1:]
    results = []
    for start, seen, frame in frames:
        entry: dict[str, Any] = {"window_start": start, "seen": seen, "sampled": frame.height}
        columns = [c for c in frame.columns if c in reference.columns]
        if frame.height < min_rows or not columns:
            entry.update(drift=None, drifted_columns=[], share_drifted=None, prediction_drift=None, columns={})
        else:
            ref, cur = _aligned(reference.select(columns), frame.select(columns))
            report = drift_report(ref, cur, columns=columns)
            by_name = {c.column: c for c in report.columns}
            features = [c for c in report.columns if c.column != PREDICTION_COLUMN]
            entry["drift"] = report.dataset_drift
            entry["drifted_columns"] = [c.column for c in features if c.drift_detected]
            entry["share_drifted"] = (len(entry["drifted_columns"]) / len(features)) if features else None
            pred = by_name.get(PREDICTION_COLUMN)
            entry["prediction_drift"] = None if pred is None else pred.drift_detected
            entry["columns"] = {c.column: {"method": c.method, "score": c.score, "psi": c.psi,
                                           "ks_statistic": c.ks_statistic, "chi2_p_value": c.chi2_p_value,
                                           "drift": c.drift_detected} for c in report.columns}
        results.append(entry)
    return results


def _aligned(reference: pl.DataFrame, current: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give each column one type on both sides: numbers as Float64, anything mixed with text as text.

    Training data keeps integers and categories as they were stored, while served requests arrive as floats
    or strings, so the same feature can differ in type between the two.
    """
    casts_ref, casts_cur = [], []
    for name in reference.columns:
        left, right = reference.schema[name], current.schema[name]
        if left == right:
            continue
        if _numeric(left) and _numeric(right):
            casts_ref.append(pl.col(name).cast(pl.Float64))
            casts_cur.append(pl.col(name).cast(pl.Float64))
        else:
            casts_ref.append(pl.col(name).cast(pl.String))
            casts_cur.append(pl.col(name).cast(pl.String))
    if casts_ref:
        reference, current = reference.with_columns(casts_ref), current.with_columns(casts_cur)
    return reference, current


def _numeric(dtype: pl.DataType) -> bool:
    # Booleans arrive over the wire as 0/1 numbers, so they compare as numbers.
    return dtype.is_numeric() or dtype == pl.Boolean
