"""Run the detectors over a project's evidence and bring the register in line with what they find.

A finding with no risk yet raises one; a finding of an open risk updates it; a risk a detector closed reopens when
its evidence returns (a risk a person closed stays closed); an open risk whose evidence has cleared is closed.
Every change is a history row whose source is the detector.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.storage import ArtifactStore
from mlpilot.notifications.service import publish
from mlpilot.projects import service as projects_service
from mlpilot.risks import detectors as _detectors  # noqa: F401  (registers every detector)
from mlpilot.risks import history
from mlpilot.risks.findings import DETECTORS, Finding, PlanFigures, ScanContext
from mlpilot.risks.models import MANUAL, Risk, RiskChange, RiskPlan, RiskStatus

log = logging.getLogger(__name__)


@dataclass
class ScanResult:
    """What one scan did: risk ids raised, updated, reopened and closed; detectors that failed, with why."""

    raised: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def plan_figures(plan: RiskPlan | None) -> PlanFigures:
    if plan is None:
        return PlanFigures()
    return PlanFigures(
        dataset_name=plan.dataset_name, target_column=plan.target_column, min_rows=plan.min_rows,
        min_rows_per_class=plan.min_rows_per_class, target_metric=plan.target_metric, target_value=plan.target_value,
        stale_runs=plan.stale_runs, delivery_grace_hours=plan.delivery_grace_hours,
        alert_lookback_hours=plan.alert_lookback_hours, max_error_rate=plan.max_error_rate,
        max_latency_p95_ms=plan.max_latency_p95_ms)


Progress = Callable[[float, str], None]


def run_detectors(ctx: ScanContext, progress: Progress | None = None) -> tuple[dict[str, list[Finding]],
                                                                                   dict[str, str]]:
    """Every detector's findings; a detector that raises is reported and its risks are left as they are."""
    found: dict[str, list[Finding]] = {}
    failed: dict[str, str] = {}
    for i, (name, detect) in enumerate(DETECTORS.items()):
        if progress is not None:
            progress(0.1 + 0.8 * i / len(DETECTORS), f"detector {name}")
        try:
            found[name] = detect(ctx)
        except Exception as exc:  # one broken source of evidence must not stop the others
            log.exception("risk detector %s failed on project %s", name, ctx.project_id)
            failed[name] = f"{type(exc).__name__}: {exc}"[:500]
    return found, failed


def _edited_by_person(session: Session, risk_id: int, fields: tuple[str, ...]) -> set[str]:
    stmt = select(RiskChange.field).where(RiskChange.risk_id == risk_id, RiskChange.source == MANUAL,
                                          RiskChange.field.in_(fields))
    return set(session.scalars(stmt))


def _apply_finding(session: Session, risk: Risk, finding: Finding, source: str, result: ScanResult) -> None:
    values: dict[str, object] = {"title": finding.title, "evidence_url": finding.evidence_url}
    # The description is the evidence as of this scan (counts, hours, latest values): kept current without a
    # history row per scan, which would bury the changes that matter.
    risk.description = finding.description
    # A person's own assessment of probability or impact stands over the detector's.
    mine = _edited_by_person(session, risk.id, ("probability", "impact"))
    values.update({f: getattr(finding, f) for f in ("probability", "impact") if f not in mine})
    if risk.status == RiskStatus.closed and risk.closed_reason == "evidence_cleared":
        values["status"] = RiskStatus.open
        result.reopened.append(risk.id)
    risk.title_ko = finding.title_ko
    if risk.status == RiskStatus.closed and "status" not in values:
        return  # closed by a person: accepted, not reopened
    if history.apply(session, risk, values, user_id=None, source=source) and risk.id not in result.reopened:
        result.updated.append(risk.id)


def sync_project(session: Session, *, store: ArtifactStore, project_id: int, now: dt.datetime | None = None,
                 progress: Progress | None = None) -> ScanResult:
    """Scan the project's evidence and update its register (one transaction for all the changes)."""
    projects_service.get_project(session, project_id=project_id)
    now = now or utcnow()
    ctx = ScanContext(session=session, store=store, project_id=project_id, now=now,
                      plan=plan_figures(session.get(RiskPlan, project_id)))
    found, failed = run_detectors(ctx, progress)
    result = ScanResult(failed=failed)
    if progress is not None:
        progress(0.9, "updating the register")
    with unit_of_work(session):
        existing = {r.evidence_key: r for r in session.scalars(
            select(Risk).where(Risk.project_id == project_id, Risk.evidence_key.is_not(None)))}
        seen: set[str] = set()
        for source, findings in found.items():
            for finding in findings:
                key = f"{source}:{finding.key}"[:300]
                seen.add(key)
                risk = existing.get(key)
                if risk is None:
                    risk = _raise(session, project_id, source, key, finding)
                    result.raised.append(risk.id)
                    _announce(session, risk)
                else:
                    reopened = len(result.reopened)
                    _apply_finding(session, risk, finding, source, result)
                    if len(result.reopened) > reopened:
                        _announce(session, risk)
        for known, risk in existing.items():
            if known in seen or risk.source in failed or risk.status == RiskStatus.closed:
                continue
            history.apply(session, risk, {"status": RiskStatus.closed}, user_id=None, source=risk.source)
            result.closed.append(risk.id)
        plan = session.get(RiskPlan, project_id) or RiskPlan(project_id=project_id)
        plan.last_scan_at = now
        session.add(plan)
    return result


def _announce(session: Session, risk: Risk) -> None:
    """Publish `risk.raised` (webhooks and e-mail of its subscribers) in the scan's transaction."""
    publish(session, "risk.raised", {
        "title": f"Risk raised from evidence: {risk.title}", "risk_id": risk.id, "project_id": risk.project_id,
        "source": risk.source, "probability": risk.probability, "impact": risk.impact, "score": risk.score,
        "evidence_url": risk.evidence_url, "mitigation": risk.mitigation})


def _raise(session: Session, project_id: int, source: str, key: str, finding: Finding) -> Risk:
    risk = Risk(project_id=project_id, title=finding.title, title_ko=finding.title_ko,
                description=finding.description, probability=finding.probability, impact=finding.impact,
                score=finding.probability * finding.impact, mitigation=finding.mitigation,
                mitigation_ko=finding.mitigation_ko, status=RiskStatus.open, source=source,
                evidence_url=finding.evidence_url, evidence_key=key)
    session.add(risk)
    session.flush()
    history.record(session, risk, "created", "", finding.title, user_id=None, source=source)
    return risk
