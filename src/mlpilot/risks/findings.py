"""What a detector reads and what it returns: typed findings, each one risk of the register."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mlpilot.core.storage import ArtifactStore


@dataclass(frozen=True)
class PlanFigures:
    """The project's planned figures (`RiskPlan`) as plain values; None means "not planned, not checked"."""

    dataset_name: str | None = None
    target_column: str | None = None
    min_rows: int | None = None
    min_rows_per_class: int | None = None
    target_metric: str | None = None
    target_value: float | None = None
    stale_runs: int = 5
    delivery_grace_hours: int = 6
    alert_lookback_hours: int = 24
    max_error_rate: float | None = None
    max_latency_p95_ms: float | None = None


@dataclass(frozen=True)
class ScanContext:
    """Everything a detector may read: the project's evidence through the other domains' services."""

    session: Session
    store: ArtifactStore
    project_id: int
    plan: PlanFigures
    now: dt.datetime


@dataclass(frozen=True)
class Finding:
    """One risk a detector sees in the evidence. `key` identifies it across scans (the dedup key)."""

    key: str
    title: str
    title_ko: str
    description: str
    probability: int
    impact: int
    evidence_url: str
    mitigation: str
    mitigation_ko: str


Detector = Callable[[ScanContext], list[Finding]]
DETECTORS: dict[str, Detector] = {}


def detector(name: str) -> Callable[[Detector], Detector]:
    """Register a detector under `name` (the `source` of the risks it raises)."""

    def register(fn: Detector) -> Detector:
        DETECTORS[name] = fn
        return fn

    return register


def as_utc(value: dt.datetime) -> dt.datetime:
    """Some databases hand datetimes back without a zone; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def scale(shortfall: float) -> int:
    """Probability 3–5 from how far the evidence is from the plan (0 = at the plan, 1 = nothing of it)."""
    return 5 if shortfall >= 0.5 else 4 if shortfall >= 0.2 else 3
