"""Data readiness of a candidate use case: pure checks over a dataset profile (datasets.profiling) — no data access.

Each check passes, warns or fails and carries the figure it is based on:
- rows: fail under MIN_ROWS (quality rules), warn under WARN_ROWS;
- label: fail when the label column is absent or empty, warn when some labels are missing;
- rows_per_class (classification): fail when a class has fewer than MIN_ROWS_PER_CLASS rows, warn under
  WARN_ROWS_PER_CLASS or when the classes are imbalanced (smallest < IMBALANCE_RATIO × largest);
- history (time series): fail without a date column or under MIN_HISTORY_DAYS, warn under GOOD_HISTORY_DAYS;
- missing: share of empty cells; warn above WARN_MISSING, fail above FAIL_MISSING;
- leakage: warn when a column predicts the label almost perfectly (the quality rules' target_leakage).
The readiness score is the mean of pass = 1, warn = ½, fail = 0, in per cent; the data is ready without a fail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mlpilot.datasets.quality import IMBALANCE_RATIO, MIN_ROWS, MIN_ROWS_PER_CLASS

WARN_ROWS = 1000
WARN_ROWS_PER_CLASS = 50
MIN_HISTORY_DAYS = 365
GOOD_HISTORY_DAYS = 730
WARN_MISSING = 0.10
FAIL_MISSING = 0.30
PASS, WARN, FAIL = "pass", "warn", "fail"
STATUS_POINTS = {PASS: 1.0, WARN: 0.5, FAIL: 0.0}


@dataclass(frozen=True)
class ReadinessCheck:
    key: str
    status: str
    figure: str
    message: str


@dataclass(frozen=True)
class Readiness:
    """The figures of a dataset version measured for one candidate use case, and the checks over them."""

    dataset_version_id: int
    dataset: str
    version: int
    target: str
    task: str
    rows: int
    columns: int
    missing_share: float
    rows_per_class: dict[str, int] | None
    history_days: float | None
    history_periods: int | None
    leakage_columns: list[str]
    checks: list[ReadinessCheck]
    score: int
    ready: bool


@dataclass(frozen=True)
class DatasetRef:
    version_id: int
    name: str
    version: int


@dataclass(frozen=True)
class ProfileFacts:
    """What readiness reads from a dataset profile (datasets.profiling), profiled with the label as target."""

    rows: int
    columns: int
    missing_cells: int
    target_task: str
    target_missing: int
    classes: dict[str, int] | None
    leakage_columns: list[str]
    time_columns: list[str]


@dataclass(frozen=True)
class TimeSpan:
    """The first and last time of a date column and how many distinct times it holds (None: no readable date)."""

    start: dt.datetime | None
    end: dt.datetime | None
    periods: int


def _rows_check(rows: int) -> ReadinessCheck:
    status = FAIL if rows < MIN_ROWS else WARN if rows < WARN_ROWS else PASS
    return ReadinessCheck("rows", status, f"{rows:,}",
                          f"{rows:,} rows (at least {MIN_ROWS} needed, {WARN_ROWS:,} or more is comfortable).")


def _label_check(facts: ProfileFacts, target: str, present: bool) -> ReadinessCheck:
    if not present:
        return ReadinessCheck("label", FAIL, "absent", f"The label column {target!r} is not in the dataset.")
    missing, rows = facts.target_missing, facts.rows
    if rows == 0 or missing >= rows:
        return ReadinessCheck("label", FAIL, "0 %", f"The label column {target!r} has no values.")
    share = missing / rows
    status = WARN if missing else PASS
    return ReadinessCheck("label", status, f"{100 * (1 - share):.1f} %",
                          f"The label {target!r} is present in {100 * (1 - share):.1f} % of rows.")


def _class_check(classes: dict[str, int]) -> ReadinessCheck:
    counts = sorted(classes.values())
    smallest, largest = counts[0], counts[-1]
    figure = f"min {smallest:,} / max {largest:,}"
    if len(counts) < 2:
        return ReadinessCheck("rows_per_class", FAIL, figure, "The label has a single class; a classifier needs two.")
    if smallest < MIN_ROWS_PER_CLASS:
        return ReadinessCheck("rows_per_class", FAIL, figure,
                              f"The smallest class has {smallest} rows; at least {MIN_ROWS_PER_CLASS} are needed.")
    if smallest < WARN_ROWS_PER_CLASS or smallest < IMBALANCE_RATIO * largest:
        return ReadinessCheck("rows_per_class", WARN, figure,
                              f"The smallest class has {smallest:,} rows against {largest:,} for the largest.")
    return ReadinessCheck("rows_per_class", PASS, figure, f"Every class has at least {smallest:,} rows.")


def _history_check(span: TimeSpan | None, time_column: str | None) -> ReadinessCheck:
    if span is None or time_column is None:
        return ReadinessCheck("history", FAIL, "—", "No date or time column: the history length cannot be measured.")
    if span.start is None or span.end is None:
        return ReadinessCheck("history", FAIL, "—", f"Column {time_column!r} holds no readable dates.")
    days = history_days(span)
    status = FAIL if days < MIN_HISTORY_DAYS else WARN if days < GOOD_HISTORY_DAYS else PASS
    return ReadinessCheck("history", status, f"{days:,.0f} d / {span.periods:,}",
                          f"{days:,.0f} days of history in {time_column!r} ({span.periods:,} distinct times, from "
                          f"{span.start:%Y-%m-%d} to {span.end:%Y-%m-%d}); {GOOD_HISTORY_DAYS} days or more is "
                          "comfortable.")


def history_days(span: TimeSpan) -> float:
    if span.start is None or span.end is None:
        return 0.0
    return round((span.end - span.start).total_seconds() / 86400, 1)


def _missing_check(share: float) -> ReadinessCheck:
    status = FAIL if share > FAIL_MISSING else WARN if share > WARN_MISSING else PASS
    return ReadinessCheck("missing", status, f"{100 * share:.1f} %", f"{100 * share:.1f} % of all cells are empty.")


def _leakage_check(columns: list[str]) -> ReadinessCheck:
    if not columns:
        return ReadinessCheck("leakage", PASS, "0", "No column predicts the label suspiciously well.")
    return ReadinessCheck("leakage", WARN, str(len(columns)),
                          f"Columns {', '.join(map(repr, columns))} predict the label almost perfectly; check that "
                          "they are known before the outcome, or drop them.")


def assess(facts: ProfileFacts, *, dataset: DatasetRef, target: str, target_present: bool,
           time_series: bool, time_column: str | None = None, span: TimeSpan | None = None) -> Readiness:
    """Run the readiness checks over a profile computed with `target` (when present) and, for a time series,
    the span of its date column."""
    cells = facts.rows * facts.columns
    missing_share = round(facts.missing_cells / cells, 4) if cells else 1.0
    checks = [_rows_check(facts.rows), _label_check(facts, target, target_present)]
    classes = facts.classes if target_present else None
    if classes:
        checks.append(_class_check(classes))
    days = periods = None
    if time_series:
        checks.append(_history_check(span, time_column))
        if span is not None and span.start is not None:
            days, periods = history_days(span), span.periods
    checks.append(_missing_check(missing_share))
    checks.append(_leakage_check(facts.leakage_columns))
    score = round(100 * sum(STATUS_POINTS[c.status] for c in checks) / len(checks))
    return Readiness(dataset_version_id=dataset.version_id, dataset=dataset.name, version=dataset.version,
                     target=target, task=facts.target_task, rows=facts.rows, columns=facts.columns,
                     missing_share=missing_share, rows_per_class=classes, history_days=days, history_periods=periods,
                     leakage_columns=facts.leakage_columns, checks=checks, score=score,
                     ready=all(c.status != FAIL for c in checks))
