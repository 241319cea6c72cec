"""The evidence behind a status report, assembled as plain data from other domains' summaries (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """Everything a status report shows; built from live data, rendered by render.py."""

    generated_at: dt.datetime
    project: dict[str, Any]
    timeline: list[dict[str, Any]]
    schedule: dict[str, Any]
    screening: dict[str, Any] | None
    datasets: list[dict[str, Any]] = field(default_factory=list)
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    best_model: dict[str, Any] | None = None
    services: list[dict[str, Any]] = field(default_factory=list)


def assemble_evidence(*, project: dict[str, Any], timeline: list[dict[str, Any]], schedule: dict[str, Any],
                      screening: dict[str, Any] | None, datasets_summary: dict[str, Any],
                      training_summary: dict[str, Any], serving_summary: dict[str, Any],
                      generated_at: dt.datetime) -> Evidence:
    """Combine the domains' summaries into one Evidence, dropping what a report does not show."""
    datasets = []
    for ds in datasets_summary.get("datasets") or []:
        profile = ds.get("profile") or {}
        columns = profile.get("columns") or []
        worst_missing = max(columns, key=lambda c: c.get("missing_pct") or 0, default=None)
        datasets.append({**{k: ds.get(k) for k in ("name", "version", "rows", "columns", "created_at")},
                         "profiled": bool(columns),
                         "profile_columns": columns[:12],
                         "most_missing": worst_missing if worst_missing and worst_missing.get("missing_pct") else None})
    leaderboard = list(training_summary.get("leaderboard") or [])[:10]
    return Evidence(
        generated_at=generated_at,
        project=project,
        timeline=timeline,
        schedule=schedule,
        screening=screening,
        datasets=datasets,
        leaderboard=leaderboard,
        best_model=training_summary.get("best"),
        services=list(serving_summary.get("services") or []),
    )
