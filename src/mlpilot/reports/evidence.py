"""The evidence behind a status report, assembled from other domains' typed summaries (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mlpilot.datasets.service import ColumnSummary, DatasetSummary
from mlpilot.monitoring.service import ServiceTraffic
from mlpilot.pmo.schemas import ScheduleSummary
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


def assemble_evidence(*, project: ProjectFacts, timeline: list[StageState], schedule: ScheduleSummary,
                      screening: ScreeningFacts | None, datasets: list[DatasetSummary], training: TrainingSummary,
                      services: list[ServiceTraffic], generated_at: dt.datetime) -> Evidence:
    """Combine the domains' summaries into one Evidence, dropping what a report does not show."""
    facts = []
    for dataset in datasets:
        columns = dataset.profile_columns or ()
        worst = max(columns, key=lambda c: c.missing_pct or 0, default=None)
        facts.append(DatasetFacts(summary=dataset, profile_columns=columns[:SHOWN_COLUMNS],
                                  most_missing=worst if worst is not None and worst.missing_pct else None))
    return Evidence(generated_at=generated_at, project=project, timeline=timeline, schedule=schedule,
                    screening=screening, datasets=facts, leaderboard=training.leaderboard[:SHOWN_RUNS],
                    best_model=training.best, services=services)
