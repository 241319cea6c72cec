"""The portfolio: every project the user may see, with red/amber/green health and the reason for it.

Signals (docs/pmo.md, "Portfolio"):
- schedule: the stored forecast of the project's finish (pmo.forecast snapshot) against its due date — red when
  the median (P50) is past the due date, amber when P85 is, green otherwise;
- risk: open (not closed) risks by severity (score = probability × impact) — red with any high (≥ 15), amber
  with any medium (8-14), green otherwise (no data when the register is empty);
- model: the best finished run on the project's target metric (risk plan) — red when it misses the target by 10 %
  or more, amber when it misses it by less or no run measured it yet, green when it is reached;
- services: the last hour of each of the project's services against the plan's objectives — red when the error
  rate is above its objective, amber when p95 latency is, green otherwise.

The page must stay fast for hundreds of projects, so it never runs the 10,000-draw forecast of every project:
it reads stored snapshots (one query), and refreshes at most REFRESH_PER_VIEW stale ones per view (the plan
page, the API and risk scans refresh them too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import utcnow
from mlpilot.core.errors import InvalidInput
from mlpilot.monitoring import service as monitoring_service
from mlpilot.monitoring.metrics import Totals
from mlpilot.pmo import forecast as pmo_forecast
from mlpilot.pmo import revisions
from mlpilot.portfolio.schemas import SEVERITY, Health, PortfolioRead, PortfolioRow, Signal
from mlpilot.projects import service as projects_service
from mlpilot.risks import service as risks_service
from mlpilot.serving import service as serving_service
from mlpilot.training import service as training_service
from mlpilot.training.metrics import higher_is_better

REFRESH_PER_VIEW = 3
HIGH, MEDIUM = 15, 8
MODEL_GAP_RED = 0.10
SERVICE_WINDOW = dt.timedelta(hours=1)
SORTS = ("health", "name", "client", "stage", "owner", "due", "risks")
HEALTH_FILTERS = ("red", "amber", "green", "none")


def _signal(status: Health, reason: str, reason_ko: str) -> Signal:
    return Signal(status=status, reason=reason, reason_ko=reason_ko)


def schedule_signal(due: dt.date | None, p50: dt.date | None, p85: dt.date | None, remaining: int,
                    as_of: dt.date | None, today: dt.date) -> Signal:
    if as_of is None:
        return _signal(Health.none, "No plan or no forecast yet.", "계획 또는 일정 예측이 아직 없습니다.")
    stale = "" if as_of == today else f" (forecast of {as_of.isoformat()})"
    stale_ko = "" if as_of == today else f" ({as_of.isoformat()} 기준 예측)"
    if p50 is None or p85 is None:
        return _signal(Health.none, "No tasks in the plan yet." + stale, "계획에 작업이 아직 없습니다." + stale_ko)
    if remaining == 0 or due is None:
        return _signal(Health.green, "All tasks are done." + stale, "모든 작업이 완료되었습니다." + stale_ko)
    if p50 > due:
        days = (p50 - due).days
        return _signal(Health.red, f"Late: the median forecast finish {p50.isoformat()} is {days} day(s) after the "
                                   f"due date {due.isoformat()} (P85 {p85.isoformat()}).{stale}",
                       f"지연: 예상 완료일 중앙값 {p50.isoformat()}이(가) 마감일 {due.isoformat()}보다 "
                       f"{days}일 늦습니다 (P85 {p85.isoformat()}).{stale_ko}")
    if p85 > due:
        days = (p85 - due).days
        return _signal(Health.amber, f"At risk: P85 {p85.isoformat()} is {days} day(s) after the due date "
                                     f"{due.isoformat()}.{stale}",
                       f"위험: P85 {p85.isoformat()}이(가) 마감일 {due.isoformat()}보다 {days}일 늦습니다.{stale_ko}")
    return _signal(Health.green, f"On track: P85 {p85.isoformat()} on or before the due date {due.isoformat()}.{stale}",
                   f"정상: P85 {p85.isoformat()}이(가) 마감일 {due.isoformat()} 이내입니다.{stale_ko}")


def risk_signal(scores: list[int], top: str | None, recorded: bool = True) -> Signal:
    high = sum(s >= HIGH for s in scores)
    medium = sum(MEDIUM <= s < HIGH for s in scores)
    low = len(scores) - high - medium
    counts = f"{high} high, {medium} medium, {low} low open risk(s)"
    counts_ko = f"미해결 위험 높음 {high} · 중간 {medium} · 낮음 {low}"
    if not scores and not recorded:
        return _signal(Health.none, "No risks recorded yet.", "기록된 위험이 아직 없습니다.")
    if not scores:
        return _signal(Health.green, "No open risks.", "미해결 위험이 없습니다.")
    suffix, suffix_ko = (f"; top: {top}", f"; 최고: {top}") if top else ("", "")
    status = Health.red if high else Health.amber if medium else Health.green
    return _signal(status, counts + suffix + ".", counts_ko + suffix_ko + ".")


def model_signal(metric: str | None, target: float | None, best: tuple[float, int] | None) -> Signal:
    if not metric or target is None:
        return _signal(Health.none, "No target metric set in the risk plan.", "위험 계획에 목표 지표가 없습니다.")
    if best is None:
        return _signal(Health.amber, f"No finished run measured {metric} yet (target {target:g}).",
                       f"{metric}을(를) 측정한 완료된 학습이 아직 없습니다 (목표 {target:g}).")
    value, run_id = best
    higher = higher_is_better(metric)
    if (value >= target) if higher else (value <= target):
        return _signal(Health.green, f"Best {metric} {value:.4g} (run {run_id}) reaches the target {target:g}.",
                       f"최고 {metric} {value:.4g} (학습 {run_id})이(가) 목표 {target:g}에 도달했습니다.")
    gap = abs(target - value) / (abs(target) or 1.0)
    status = Health.red if gap >= MODEL_GAP_RED else Health.amber
    return _signal(status, f"Best {metric} {value:.4g} (run {run_id}) misses the target {target:g} by {gap:.1%}.",
                   f"최고 {metric} {value:.4g} (학습 {run_id})이(가) 목표 {target:g}에 {gap:.1%} 미달합니다.")


class Objectives(Protocol):
    """The service objectives of a project's risk plan."""

    max_error_rate: float | None
    max_latency_p95_ms: float | None


class Target(Protocol):
    target_metric: str | None
    target_value: float | None


def services_signal(plan: Objectives | None, totals: dict[str, Totals]) -> Signal:
    if not totals:
        return _signal(Health.none, "No services.", "서비스가 없습니다.")
    max_errors = plan.max_error_rate if plan else None
    max_p95 = plan.max_latency_p95_ms if plan else None
    if max_errors is None and max_p95 is None:
        return _signal(Health.none, f"{len(totals)} service(s), no objectives set in the risk plan.",
                       f"서비스 {len(totals)}개, 위험 계획에 서비스 목표가 없습니다.")
    for name, t in sorted(totals.items()):
        if t.requests and max_errors is not None and t.error_rate > max_errors:
            return _signal(Health.red, f"Service {name}: error rate {t.error_rate:.1%} in the last hour is above "
                                       f"the objective {max_errors:.1%}.",
                           f"서비스 {name}: 최근 1시간 오류율 {t.error_rate:.1%}이(가) 목표 {max_errors:.1%}를 "
                           "초과합니다.")
    for name, t in sorted(totals.items()):
        if t.requests and max_p95 is not None and t.latency_p95_ms is not None and t.latency_p95_ms > max_p95:
            return _signal(Health.amber, f"Service {name}: p95 latency {t.latency_p95_ms:.0f} ms in the last hour is "
                                         f"above the objective {max_p95:.0f} ms.",
                           f"서비스 {name}: 최근 1시간 p95 지연 {t.latency_p95_ms:.0f} ms가 목표 {max_p95:.0f} ms를 "
                           "초과합니다.")
    return _signal(Health.green, f"{len(totals)} service(s) within their objectives in the last hour.",
                   f"서비스 {len(totals)}개가 최근 1시간 목표 이내입니다.")


def overall(signals: Iterable[Signal]) -> Health:
    statuses = [s.status for s in signals if s.status != Health.none]
    return min(statuses, key=SEVERITY.__getitem__) if statuses else Health.none


def _best_runs(session: Session, plans: Mapping[int, Target]) -> dict[int, tuple[float, int] | None]:
    best: dict[int, tuple[float, int] | None] = {}
    for pid, plan in plans.items():
        metric = plan.target_metric
        if not metric or plan.target_value is None:
            continue
        higher = higher_is_better(metric)
        found: tuple[float, int] | None = None
        for entry in training_service.leaderboard_entries(session, project_id=pid):
            value = entry.metrics.get(metric)
            if isinstance(value, int | float) and not isinstance(value, bool) and (
                    found is None or (value > found[0] if higher else value < found[0])):
                found = (float(value), entry.run_id)
        best[pid] = found
    return best


def portfolio(session: Session, *, user: User, health: str | None = None, owner: str | None = None,
              stage: str | None = None, client: str | None = None, sort: str = "health",
              descending: bool = False, today: dt.date | None = None) -> PortfolioRead:
    """Every visible project with its health, filtered and sorted (health: worst first)."""
    if health and health not in HEALTH_FILTERS:
        raise InvalidInput(f"health {health!r} is unknown; expected one of: {', '.join(HEALTH_FILTERS)}.")
    if sort not in SORTS:
        raise InvalidInput(f"sort {sort!r} is unknown; expected one of: {', '.join(SORTS)}.")
    today = today or dt.date.today()
    projects = projects_service.list_projects(session, user=user)  # members: their projects; admins: all
    if stage:
        projects = [p for p in projects if p.stage == stage]
    if client:
        projects = [p for p in projects if client.casefold() in p.client.casefold()]
    creators = {p.created_by_id for p in projects if p.created_by_id is not None}
    owners = {uid: name for uid, name in session.execute(select(User.id, User.username)
                                                         .where(User.id.in_(creators)))} if creators else {}
    if owner:
        projects = [p for p in projects if owners.get(p.created_by_id or 0, "").casefold() == owner.casefold()]
    ids = [p.id for p in projects]
    snaps = pmo_forecast.snapshots(session, ids) if ids else {}
    current = revisions.revisions(session, ids) if ids else {}
    # A project whose plan was ever written has a revision; the others have nothing to forecast.
    stale = [pid for pid in ids if pid in current and (
        pid not in snaps or snaps[pid].revision != current.get(pid, 0) or snaps[pid].as_of != today)]
    for pid in stale[:REFRESH_PER_VIEW]:
        pmo_forecast.forecast(session, project_id=pid, today=today)
    if stale:
        snaps = pmo_forecast.snapshots(session, ids)
    open_risks = risks_service.open_risks_of(session, project_ids=ids)
    recorded = risks_service.projects_with_risks(session, project_ids=ids)
    plans = risks_service.plans_of(session, project_ids=ids)
    best = _best_runs(session, plans)
    services = serving_service.list_services(session, project_ids=ids) if ids else []
    totals = monitoring_service.summarize_services(session, service_names=[s.name for s in services],
                                                   since=utcnow() - SERVICE_WINDOW)
    per_project: dict[int, dict[str, Totals]] = {}
    for svc in services:
        per_project.setdefault(svc.project_id, {})[svc.name] = totals[svc.name]
    rows = []
    for p in projects:
        snap = snaps.get(p.id) if p.id in current else None
        risks = open_risks.get(p.id, [])
        plan = plans.get(p.id)
        signals = {
            "schedule": (schedule_signal(snap.due_date, snap.p50, snap.p85, snap.remaining_tasks, snap.as_of, today)
                         if snap else schedule_signal(None, None, None, 0, None, today)),
            "risk": risk_signal([s for s, _t in risks], risks[0][1] if risks else None, p.id in recorded),
            "model": model_signal(plan.target_metric if plan else None, plan.target_value if plan else None,
                                  best.get(p.id)),
            "services": services_signal(plan, per_project.get(p.id, {})),
        }
        rows.append(PortfolioRow(project_id=p.id, name=p.name, client=p.client, stage=p.stage,
                                 owner=owners.get(p.created_by_id or 0), health=overall(signals.values()),
                                 due_date=snap.due_date if snap else None, p85=snap.p85 if snap else None,
                                 open_risks=len(risks), forecast_as_of=snap.as_of if snap else None, **signals))
    if health:
        rows = [r for r in rows if r.health == health]
    _sort(rows, sort, descending)
    counts = {h.value: sum(r.health == h for r in rows) for h in Health}
    return PortfolioRead(as_of=today, total=len(rows), counts=counts, projects=rows,
                         pending_forecasts=max(0, len(stale) - REFRESH_PER_VIEW))


def _sort(rows: list[PortfolioRow], sort: str, descending: bool) -> None:
    far = dt.date.max
    keys = {
        "health": lambda r: (SEVERITY[r.health], r.name.casefold()),
        "name": lambda r: r.name.casefold(),
        "client": lambda r: (r.client.casefold(), r.name.casefold()),
        "stage": lambda r: (r.stage, r.name.casefold()),
        "owner": lambda r: ((r.owner or "").casefold(), r.name.casefold()),
        "due": lambda r: (r.due_date or far, r.name.casefold()),
        "risks": lambda r: (-r.open_risks, r.name.casefold()),
    }
    rows.sort(key=keys[sort], reverse=descending)
