"""Alert rules and the cost view: evaluated from the inference log; firing publishes `alert.fired`.

The evaluator runs in a daemon thread of the server (like the notifier); each firing is recorded and published
through the notifications outbox in one transaction, so webhooks and e-mails follow even after a crash.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mlpilot.core.db import rows_changed, session_scope, unit_of_work, utcnow
from mlpilot.core.errors import N_, InvalidInput, NotFound
from mlpilot.core.runtime import Runtime
from mlpilot.monitoring import service as monitoring_service
from mlpilot.monitoring.models import AlertEvent, AlertRule, InferenceLog, ServiceCost
from mlpilot.notifications.service import publish
from mlpilot.notifications.worker import PeriodicTask, start_task, stop_task
from mlpilot.serving.traffic import attached_dataplane

if TYPE_CHECKING:
    from mlpilot.dataplane.server import DataPlane

log = logging.getLogger(__name__)
# Live quality from ground-truth feedback (over predictions made in the window); no feedback → no value.
QUALITY_METRICS = ("accuracy", "rmse", "mae")
# Live drift of the newest sampled window with enough rows (the window length is a serving setting, not the
# rule's): share of input features drifted, and 1/0 for the model's answers having drifted.
DRIFT_METRICS = ("drift_share", "prediction_drift")
METRICS = ("error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "requests", "errors",
           *QUALITY_METRICS, *DRIFT_METRICS)
PART_NAME = "alert_evaluator"


def create_rule(session: Session, *, name: str, service: str, metric: str, threshold: float, op: str = ">",
                window_minutes: int = 5, cooldown_minutes: int = 30) -> AlertRule:
    """Add an alert rule after checking its metric, comparison and durations."""
    if metric not in METRICS:
        raise InvalidInput(f"Unknown metric {metric!r}; expected one of: {', '.join(METRICS)}.")
    if op not in (">", "<"):
        raise InvalidInput(f"Comparison must be '>' or '<'; got {op!r}.")
    if not 1 <= window_minutes <= 7 * 24 * 60:
        raise InvalidInput("window_minutes must be between 1 and 10080 (a week).")
    if cooldown_minutes < 0:
        raise InvalidInput("cooldown_minutes cannot be negative.")
    if not service.strip() or not name.strip():
        raise InvalidInput("An alert rule needs a name and a service.")
    with unit_of_work(session):
        rule = AlertRule(name=name.strip(), service=service.strip(), metric=metric, op=op, threshold=float(threshold),
                         window_minutes=window_minutes, cooldown_minutes=cooldown_minutes)
        session.add(rule)
        session.flush()
    return rule


def list_rules(session: Session, *, services: Collection[str] | None = None) -> list[AlertRule]:
    """Return the alert rules, only those on `services` when given (a non-admin's visible services)."""
    stmt = select(AlertRule).order_by(AlertRule.id)
    if services is not None:
        stmt = stmt.where(AlertRule.service.in_(list(services)))
    return list(session.scalars(stmt))


def rule_project_id(session: Session, *, rule_id: int) -> int | None:
    """Return the project of the service a rule watches (None when that service is gone: admins only)."""
    from mlpilot.serving.service import find_service_by_name

    rule = session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"Alert rule {rule_id} does not exist.")
    service = find_service_by_name(session, name=rule.service)
    return service.project_id if service is not None else None


def delete_rule(session: Session, *, rule_id: int) -> None:
    with unit_of_work(session):
        rule = session.get(AlertRule, rule_id)
        if rule is None:
            raise NotFound(f"Alert rule {rule_id} does not exist.")
        session.delete(rule)


def list_events(session: Session, *, limit: int = 100, services: Collection[str] | None = None) -> list[AlertEvent]:
    """Return the newest alert events, only those of `services` when given."""
    stmt = select(AlertEvent).order_by(AlertEvent.id.desc()).limit(limit)
    if services is not None:
        stmt = stmt.where(AlertEvent.service.in_(list(services)))
    return list(session.scalars(stmt))


def _drift_value(plane: DataPlane | None, rule: AlertRule) -> tuple[float | None, dict[str, Any]]:
    if plane is None:
        return None, {}
    latest = monitoring_service.service_drift(plane, service_name=rule.service).latest
    if latest is None:
        return None, {}
    details: dict[str, Any] = {"drifted_columns": ", ".join(latest.drifted_columns) or "none",
                               "drift_window_start": latest.window_start.isoformat(), "sampled_rows": latest.sampled}
    if rule.metric == "drift_share":
        value = latest.share_drifted
        return (None if value is None else float(value)), details
    flag = latest.prediction_drift
    return (None if flag is None else float(flag)), details


def _value(session: Session, rule: AlertRule, now: dt.datetime) -> float | None:
    since = now - dt.timedelta(minutes=rule.window_minutes)
    if rule.metric in QUALITY_METRICS:
        quality = monitoring_service.quality_since(session, service_name=rule.service, since=since,
                                                   bucket_seconds=rule.window_minutes * 60, until=now)
        value = quality["totals"].get(rule.metric)
        return None if value is None else float(value)
    result = monitoring_service.service_metrics(session, service_name=rule.service, since=since,
                                                bucket_seconds=rule.window_minutes * 60, until=now)
    value = result["totals"].get(rule.metric)
    return None if value is None else float(value)


def evaluate_rules(session: Session, *, now: dt.datetime | None = None,
                   plane: DataPlane | None = None) -> list[AlertEvent]:
    """Evaluate every enabled rule once; record, publish and return the alerts that fired.

    Drift rules need the data plane that sampled the traffic (`plane`); without one they have no value.
    """
    now = now or utcnow()
    fired: list[AlertEvent] = []
    for rule in list(session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True)))):
        details: dict[str, Any] = {}
        if rule.metric in DRIFT_METRICS:
            value, details = _drift_value(plane, rule)
        else:
            value = _value(session, rule, now)
        breached = value is not None and (value > rule.threshold if rule.op == ">" else value < rule.threshold)
        cooling = rule.last_fired_at is not None and now - rule.last_fired_at < dt.timedelta(
            minutes=rule.cooldown_minutes)
        with unit_of_work(session):
            if not breached or cooling:
                session.execute(update(AlertRule).where(AlertRule.id == rule.id).values(last_value=value))
                continue
            # Claim the firing so two evaluators never both fire inside one cooldown.
            claimed = rows_changed(session, update(AlertRule).where(
                AlertRule.id == rule.id,
                (AlertRule.last_fired_at.is_(None)) | (AlertRule.last_fired_at == rule.last_fired_at))
                .values(last_fired_at=now, last_value=value))
            if not claimed:
                continue
            event = AlertEvent(rule_id=rule.id, service=rule.service, metric=rule.metric, value=value,
                               threshold=rule.threshold, fired_at=now)
            session.add(event)
            publish(session, "alert.fired", {
                "title": f"{rule.name}: {rule.metric} {value:g} {rule.op} {rule.threshold:g} on {rule.service}",
                "rule": rule.name, "service": rule.service, "metric": rule.metric, "value": value,
                "threshold": rule.threshold, "window_minutes": rule.window_minutes, **details})
        session.refresh(rule)
        fired.append(event)
    return fired


MAX_UNIT_COST = 1_000_000.0


def get_unit_cost(session: Session, *, service: str) -> ServiceCost | None:
    """The configured price of one request of `service` (None when never set)."""
    return session.get(ServiceCost, service)


def set_unit_cost(session: Session, *, service: str, unit_cost: float, currency: str = "USD") -> ServiceCost:
    """Set the price of one request of `service`."""
    if not math.isfinite(unit_cost) or not 0 <= unit_cost <= MAX_UNIT_COST:
        raise InvalidInput.translatable(
            N_("The unit cost must be a number from 0 to %(max)s (the price of one request); got %(value)s."),
            max=f"{MAX_UNIT_COST:,.0f}", value=repr(unit_cost))
    currency = (currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput.translatable(
            N_("The currency must be a three-letter ISO 4217 code such as KRW or USD; got %(value)s."),
            value=repr(currency))
    with unit_of_work(session):
        row = session.get(ServiceCost, service) or ServiceCost(service=service)
        row.unit_cost, row.currency = float(unit_cost), currency[:8]
        session.add(row)
    return row


def cost_view(session: Session, *, since: dt.datetime,
              services: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Per service since `since`: requests, rows, compute seconds (summed request latency) and cost, priciest first.

    Shadow calls are counted too: they cost compute even though no client saw them.
    """
    stmt = (select(InferenceLog.service, func.count(), func.coalesce(func.sum(InferenceLog.rows), 0),
                   func.coalesce(func.sum(InferenceLog.latency_ms), 0.0))
            .where(InferenceLog.ts >= since).group_by(InferenceLog.service))
    if services is not None:
        stmt = stmt.where(InferenceLog.service.in_(list(services)))
    prices = {c.service: c for c in session.scalars(select(ServiceCost))}
    rows: list[dict[str, Any]] = []
    for name, requests, n_rows, latency_ms in session.execute(stmt):
        price = prices.get(name)
        unit = price.unit_cost if price else 0.0
        rows.append({"service": name, "requests": int(requests), "rows": int(n_rows),
                     "compute_seconds": round(float(latency_ms) / 1000.0, 3), "unit_cost": unit,
                     "currency": price.currency if price else "USD", "cost": round(unit * int(requests), 6)})
    total = sum(r["cost"] for r in rows) or 0.0
    for r in rows:
        r["share"] = round(r["cost"] / total, 4) if total else 0.0
    return sorted(rows, key=lambda r: (-r["cost"], -r["compute_seconds"]))


def start_alert_evaluator(runtime: Runtime) -> PeriodicTask | None:
    """Evaluate alert rules in the background (on when notifications are); starting twice is harmless."""

    def tick() -> int:
        with session_scope(runtime.sessions) as session:
            return len(evaluate_rules(session, plane=attached_dataplane(runtime)))

    return start_task(runtime, PART_NAME, lambda: PeriodicTask(
        "alerts", tick, interval_s=runtime.settings.notifications.alert_interval_s))


def stop_alert_evaluator(runtime: Runtime) -> None:
    stop_task(runtime, PART_NAME)
