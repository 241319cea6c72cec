"""The evidence behind a status report, assembled from other domains' typed summaries (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mlpilot.datasets.service import ColumnSummary, DatasetSummary
from mlpilot.monitoring.schemas import LiveDriftRead
from mlpilot.monitoring.service import ServiceTraffic
from mlpilot.pmo.schemas import BaselineVariance, CriticalPathRead, ForecastRead, ScheduleSummary
from mlpilot.projects.service import StageState
from mlpilot.team.compute import BuildVsManaged
from mlpilot.training.service import LeaderboardEntry, TrainingSummary

# Profiled columns a report lists per dataset (the widest tables would not fit a page).
SHOWN_COLUMNS = 12
SHOWN_RUNS = 10


@dataclass(frozen=True)
class ProjectFacts:
    """Who the report is about."""

    id: int
    name: str
    client: str
    description: str
    stage: str
    usecase_key: str | None
    usecase_name: str | None


@dataclass(frozen=True)
class ScreeningFacts:
    """The project's latest screening: the score, the decision and each question's answer and note."""

    score: int
    max_score: int
    decision: str
    answers: dict[str, dict[str, str]]
    created_at: dt.datetime


@dataclass(frozen=True)
class DatasetFacts:
    """A dataset as the report shows it: its latest version, and the column missing the most values."""

    summary: DatasetSummary
    profile_columns: tuple[ColumnSummary, ...] = ()
    most_missing: ColumnSummary | None = None

    @property
    def profiled(self) -> bool:
        return self.summary.profile_columns is not None


@dataclass(frozen=True)
class ModelFacts:
    """A trained model as documents name it: the registered name and the algorithm, never just the engine."""

    run_id: int
    name: str
    algorithm: str
    engine: str
    metric_name: str
    metric_value: float | None
    stage: str | None
    dataset: str


@dataclass(frozen=True)
class RiskFacts:
    """A risk of the register in the document's language."""

    title: str
    probability: int
    impact: int
    score: int
    status: str
    owner: str | None
    mitigation: str
    source: str


@dataclass(frozen=True)
class IssueFacts:
    title: str
    kind: str
    status: str
    decision: str


@dataclass(frozen=True)
class ServiceLevel:
    """A service's last 24 hours against the plan's objectives (None: no objective set)."""

    name: str
    requests: int
    error_rate: float | None
    latency_p95_ms: float | None
    max_error_rate: float | None
    max_latency_p95_ms: float | None
    cost: float
    currency: str

    @property
    def attained(self) -> bool | None:
        checks = []
        if self.max_error_rate is not None and self.error_rate is not None:
            checks.append(self.error_rate <= self.max_error_rate)
        if self.max_latency_p95_ms is not None and self.latency_p95_ms is not None:
            checks.append(self.latency_p95_ms <= self.max_latency_p95_ms)
        return all(checks) if checks else None


@dataclass(frozen=True)
class AlertFacts:
    service: str
    metric: str
    value: float
    threshold: float
    fired_at: dt.datetime


@dataclass(frozen=True)
class KpiFacts:
    """A KPI of the value tree: baseline, target and the latest actual."""

    name: str
    unit: str
    baseline: float
    target: float
    actual: float | None
    progress: float | None


@dataclass(frozen=True)
class PmoFacts:
    """What the PMO documents add to the status report; every part is optional (empty when not recorded)."""

    critical: CriticalPathRead | None = None
    baseline: BaselineVariance | None = None
    forecast: ForecastRead | None = None
    risks: list[RiskFacts] = field(default_factory=list)
    issues: list[IssueFacts] = field(default_factory=list)
    target_metric: str | None = None
    target_value: float | None = None
    models: list[ModelFacts] = field(default_factory=list)
    service_levels: list[ServiceLevel] = field(default_factory=list)
    alerts: list[AlertFacts] = field(default_factory=list)
    drift: list[LiveDriftRead] = field(default_factory=list)
    kpis: list[KpiFacts] = field(default_factory=list)
    currency: str = "KRW"
    total_benefit: float | None = None
    total_cost: float | None = None


@dataclass(frozen=True)
class Evidence:
    """Everything a status report shows; built from live data, rendered by render.py."""

    generated_at: dt.datetime
    project: ProjectFacts
    timeline: list[StageState]
    schedule: ScheduleSummary
    screening: ScreeningFacts | None
    datasets: list[DatasetFacts] = field(default_factory=list)
    leaderboard: list[LeaderboardEntry] = field(default_factory=list)
    best_model: LeaderboardEntry | None = None
    services: list[ServiceTraffic] = field(default_factory=list)
    team: BuildVsManaged | None = None  # build the team in house vs a managed service
    pmo: PmoFacts = field(default_factory=PmoFacts)

    @property
    def best(self) -> ModelFacts | None:
        """The best model by its real name (the registered model and algorithm), when the run is known."""
        if self.best_model is None:
            return None
        return next((m for m in self.pmo.models if m.run_id == self.best_model.run_id), None)


def assemble_evidence(*, project: ProjectFacts, timeline: list[StageState], schedule: ScheduleSummary,
                      screening: ScreeningFacts | None, datasets: list[DatasetSummary], training: TrainingSummary,
                      services: list[ServiceTraffic], generated_at: dt.datetime,
                      pmo: PmoFacts | None = None) -> Evidence:
    """Combine the domains' summaries into one Evidence, dropping what a report does not show."""
    facts = []
    for dataset in datasets:
        columns = dataset.profile_columns or ()
        worst = max(columns, key=lambda c: c.missing_pct or 0, default=None)
        facts.append(DatasetFacts(summary=dataset, profile_columns=columns[:SHOWN_COLUMNS],
                                  most_missing=worst if worst is not None and worst.missing_pct else None))
    return Evidence(generated_at=generated_at, project=project, timeline=timeline, schedule=schedule,
                    screening=screening, datasets=facts, leaderboard=training.leaderboard[:SHOWN_RUNS],
                    best_model=training.best, services=services, pmo=pmo or PmoFacts())
