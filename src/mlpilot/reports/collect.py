"""Gather the live evidence of a project from every domain's service, for the status report and PMO documents.

Each part is read on its own: a part a project does not have (no baseline, no tasks, no value tree) is left
empty rather than failing the document; the document's sections say what is missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import TypeVar

from sqlalchemy.orm import Session

from mlpilot.core.db import utcnow
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.monitoring import alerts as monitoring_alerts
from mlpilot.monitoring import service as monitoring_service
from mlpilot.monitoring.schemas import LiveDriftRead
from mlpilot.pmo import forecast as pmo_forecast
from mlpilot.pmo import scheduling as pmo_scheduling
from mlpilot.pmo import service as pmo_service
from mlpilot.pmo.schemas import BaselineVariance, CriticalPathRead, ForecastRead
from mlpilot.projects import service as projects_service
from mlpilot.registry import service as registry_service
from mlpilot.reports.evidence import (
    AlertFacts,
    Evidence,
    IssueFacts,
    KpiFacts,
    ModelFacts,
    PmoFacts,
    ProjectFacts,
    RiskFacts,
    ScreeningFacts,
    ServiceLevel,
    assemble_evidence,
)
from mlpilot.risks import service as risks_service
from mlpilot.serving import service as serving_service
from mlpilot.serving.traffic import attached_dataplane
from mlpilot.team import service as team_service
from mlpilot.training import service as training_service
from mlpilot.training.schemas import LeaderboardEntry
from mlpilot.usecases import service as usecases_service
from mlpilot.value import service as value_service

T = TypeVar("T")
SHOWN_ALERTS = 20
SHOWN_MODELS = 10


def algorithm_of(engine: str, params: Mapping[str, object]) -> str:
    """The algorithm a run chose, named from its chosen parameters (an AutoML engine's name is not a model)."""
    chosen = params.get("chosen") or {}
    if isinstance(chosen, dict):
        members = chosen.get("members")
        if isinstance(members, dict) and members:
            return " + ".join(str(m) for m in members)
        if isinstance(members, list) and members:
            return " + ".join(str(m) for m in members)
        for key in ("estimator", "best_model"):
            if chosen.get(key):
                return str(chosen[key])
    return engine


def _models(session: Session, leaderboard: list[LeaderboardEntry]) -> list[ModelFacts]:
    facts = []
    for entry in leaderboard[:SHOWN_MODELS]:
        run = training_service.get_run(session, run_id=entry.run_id)
        versions = registry_service.list_run_model_versions(session, run_id=entry.run_id)
        latest = versions[-1] if versions else None
        algorithm = algorithm_of(entry.engine, dict(run.params or {}))
        name = f"{latest.name} v{latest.version}" if latest else f"{algorithm} (run {entry.run_id})"
        facts.append(ModelFacts(run_id=entry.run_id, name=name, algorithm=algorithm, engine=entry.engine,
                                metric_name=entry.metric_name, metric_value=entry.metric_value,
                                stage=latest.stage if latest else None, dataset=entry.dataset))
    return facts


def _optional(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except (NotFound, InvalidInput):
        return None


def _drift(runtime: Runtime | None, names: list[str]) -> list[LiveDriftRead]:
    plane = attached_dataplane(runtime) if runtime is not None else None
    if plane is None:
        return []
    found = []
    for name in names:
        try:
            drift = monitoring_service.service_drift(plane, service_name=name)
        except (NotFound, InvalidInput, OSError):
            continue
        if drift.latest is not None:
            found.append(drift)
    return found


def pmo_facts(session: Session, *, project_id: int, locale: str, now: dt.datetime, runtime: Runtime | None,
              leaderboard: list[LeaderboardEntry]) -> PmoFacts:
    """The schedule engine, forecast, registers, models, services and value of a project."""
    critical = _optional(lambda: pmo_scheduling.critical_path(session, project_id=project_id))
    baseline: BaselineVariance | None = _optional(lambda: pmo_scheduling.compare_baseline(session,
                                                                                           project_id=project_id))
    forecast: ForecastRead | None = _optional(lambda: pmo_forecast.forecast(session, project_id=project_id,
                                                                             today=now.date()))
    names = risks_service.member_names(session, project_id=project_id)
    korean = locale == "ko"
    risks = [RiskFacts(title=(r.title_ko if korean and r.title_ko else r.title), probability=r.probability,
                       impact=r.impact, score=r.score, status=str(r.status),
                       owner=names.get(r.owner_id) if r.owner_id else None,
                       mitigation=(r.mitigation_ko if korean and r.mitigation_ko else r.mitigation), source=r.source)
             for r in risks_service.list_risks(session, project_id=project_id)]
    issues = [IssueFacts(title=i.title, kind=str(i.kind), status=str(i.status), decision=str(i.decision or ""))
              for i in risks_service.list_issues(session, project_id=project_id)]
    plan = risks_service.get_plan(session, project_id=project_id)
    services = [s.name for s in serving_service.list_services(session, project_id=project_id)]
    since = now - dt.timedelta(hours=24)
    costs = {c["service"]: c for c in monitoring_alerts.cost_view(session, since=since, services=services)} \
        if services else {}
    levels = []
    for traffic in monitoring_service.summarize_project_services(session, project_id=project_id):
        cost = costs.get(traffic.name, {})
        levels.append(ServiceLevel(
            name=traffic.name, requests=traffic.requests,
            error_rate=traffic.errors / traffic.requests if traffic.requests else None,
            latency_p95_ms=traffic.latency_p95_ms, max_error_rate=plan.max_error_rate,
            max_latency_p95_ms=plan.max_latency_p95_ms, cost=float(cost.get("cost", 0.0)),
            currency=str(cost.get("currency", "USD"))))
    alerts = [AlertFacts(service=a.service, metric=a.metric, value=a.value, threshold=a.threshold, fired_at=a.fired_at)
              for a in monitoring_alerts.list_events(session, limit=SHOWN_ALERTS, services=services)] \
        if services else []
    value = value_service.value_summary(session, project_id, today=now.date())
    kpis = [KpiFacts(name=(k.name_ko if korean else k.name_en) or k.name_en or k.name_ko, unit=k.unit,
                     baseline=k.baseline, target=k.target, actual=k.actual, progress=k.progress)
            for k in value.kpis]
    return PmoFacts(
        critical=CriticalPathRead.model_validate(critical, from_attributes=True) if critical is not None else None,
        baseline=baseline, forecast=forecast, risks=risks, issues=issues, target_metric=plan.target_metric,
        target_value=plan.target_value, models=_models(session, leaderboard), service_levels=levels, alerts=alerts,
        drift=_drift(runtime, services), kpis=kpis, currency=value.roi.currency,
        total_benefit=value.roi.total_benefit if value.kpis else None,
        total_cost=value.roi.total_cost if value.roi.total_cost else None)


def collect_evidence(session: Session, *, project_id: int, locale: str = "en", now: dt.datetime | None = None,
                     runtime: Runtime | None = None) -> Evidence:
    """Gather the live evidence of a project from every domain's service."""
    project = projects_service.get_project(session, project_id=project_id)
    usecase = usecases_service.find_usecase(key=project.usecase_key)
    screening = usecases_service.get_current_screening(session, project_id=project_id)
    now = now or utcnow()
    training = training_service.project_summary(session, project_id=project_id)
    evidence = assemble_evidence(
        project=ProjectFacts(id=project.id, name=project.name, client=project.client,
                             description=project.description, stage=project.stage, usecase_key=project.usecase_key,
                             usecase_name=usecase.localized_title(locale) if usecase else None),
        timeline=projects_service.stage_timeline(session, project_id=project_id),
        schedule=pmo_service.schedule_summary(session, project_id=project_id, today=now.date()),
        screening=None if screening is None else ScreeningFacts(
            score=screening.score, max_score=screening.max_score, decision=screening.decision,
            answers=screening.answers, created_at=screening.created_at),
        datasets=datasets_service.project_summary(session, project_id=project_id),
        training=training,
        services=monitoring_service.summarize_project_services(session, project_id=project_id),
        generated_at=now,
        pmo=pmo_facts(session, project_id=project_id, locale=locale, now=now, runtime=runtime,
                      leaderboard=training.leaderboard),
    )
    return dataclasses.replace(evidence, team=team_service.compare_build_vs_managed(session, project_id=project_id))
