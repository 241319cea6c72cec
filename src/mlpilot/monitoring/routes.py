"""REST routes of the monitoring domain: traffic and latency of a service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mlpilot.accounts.deps import AdminUser, CurrentUser
from mlpilot.accounts.models import User
from mlpilot.core.db import utcnow
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.monitoring import alerts, service
from mlpilot.monitoring.schemas import (
    AlertEventRead,
    AlertRuleCreate,
    AlertRuleRead,
    CostRow,
    FeedbackCreate,
    FeedbackResult,
    LiveDriftRead,
    MetricsRead,
    QualityRead,
    UnitCostSet,
    Window,
)
from mlpilot.serving import service as serving_service
from mlpilot.serving.traffic import attached_dataplane
from mlpilot.web import access

router = APIRouter(tags=["monitoring"])


def _visible(session: DbSession, user: User) -> set[str] | None:
    """The services a caller may watch: every one for admins, else those of the caller's projects."""
    if user.role == "admin":
        return None
    return {s.name for s in serving_service.list_user_services(session, user=user)}


@router.get("/services/{name}/metrics", response_model=MetricsRead, dependencies=[access.Service.read])
def service_metrics(name: str, session: DbSession, user: CurrentUser, window: Window = "1h") -> MetricsRead:
    """Requests, errors, rows and p50/p95/p99 latency of a service, in total and per time bucket."""
    serving_service.check_service_access(session, name=name, user=user)
    return service.window_metrics(session, service_name=name, window=window)


@router.post("/services/{name}/feedback", response_model=FeedbackResult, dependencies=[access.Service.write])
def send_feedback(name: str, body: FeedbackCreate, session: DbSession, runtime: RuntimeDep,
                  user: CurrentUser) -> FeedbackResult:
    """Ground truth for answered requests, by request id: matched rows feed live quality; unknown ids come back."""
    serving_service.check_service_access(session, name=name, user=user)
    plane = serving_service.require_dataplane(runtime)
    items = [item.model_dump() for item in body.feedback]
    return service.record_feedback(session, log=plane.predictions, service_name=name, items=items)


@router.get("/monitoring/services/{name}/quality", response_model=QualityRead, dependencies=[access.Service.read])
def service_quality(name: str, session: DbSession, user: CurrentUser, window: Window = "24h") -> QualityRead:
    """Live accuracy (classification) or RMSE/MAE (regression) per bucket, from feedback received."""
    serving_service.check_service_access(session, name=name, user=user)
    return service.service_quality(session, service_name=name, window=window)


@router.get("/monitoring/alert-rules", response_model=list[AlertRuleRead])
def list_alert_rules(session: DbSession, user: CurrentUser) -> list[AlertRuleRead]:
    return [AlertRuleRead.model_validate(r) for r in alerts.list_rules(session, services=_visible(session, user))]


@router.post("/monitoring/alert-rules", response_model=AlertRuleRead, status_code=201)
def create_alert_rule(body: AlertRuleCreate, session: DbSession, user: AdminUser) -> AlertRuleRead:
    """Alert when a service metric over a window crosses a threshold; firings go to notification subscribers."""
    return AlertRuleRead.model_validate(alerts.create_rule(session, **body.model_dump()))


@router.delete("/monitoring/alert-rules/{rule_id}", status_code=204, dependencies=[access.AlertRule.write])
def delete_alert_rule(rule_id: int, session: DbSession, user: AdminUser) -> None:
    alerts.delete_rule(session, rule_id=rule_id)


@router.post("/monitoring/alert-rules/evaluate", response_model=list[AlertEventRead])
def evaluate_alert_rules(session: DbSession, runtime: RuntimeDep, user: AdminUser) -> list[AlertEventRead]:
    """Evaluate every rule now (the server also does so in the background)."""
    return [AlertEventRead.model_validate(e) for e in alerts.evaluate_rules(session, plane=attached_dataplane(runtime))]


@router.get("/monitoring/services/{name}/drift", response_model=LiveDriftRead, dependencies=[access.Service.read])
def service_drift(name: str, session: DbSession, runtime: RuntimeDep, user: CurrentUser) -> LiveDriftRead:
    """Live input and prediction drift of the service's sampled traffic against its training reference."""
    serving_service.check_service_access(session, name=name, user=user)
    plane = serving_service.require_dataplane(runtime)
    return service.service_drift(plane, service_name=name)


@router.get("/monitoring/alerts", response_model=list[AlertEventRead])
def list_alerts(session: DbSession, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100
                ) -> list[AlertEventRead]:
    return [AlertEventRead.model_validate(e)
            for e in alerts.list_events(session, limit=limit, services=_visible(session, user))]


@router.put("/monitoring/costs/{service_name}", status_code=204)
def set_unit_cost(service_name: str, body: UnitCostSet, session: DbSession, user: AdminUser) -> None:
    alerts.set_unit_cost(session, service=service_name, unit_cost=body.unit_cost, currency=body.currency)


@router.get("/monitoring/costs", response_model=list[CostRow])
def cost_view(session: DbSession, user: AdminUser, window: Window = "24h") -> list[CostRow]:
    """Requests × unit cost and compute seconds per service over the window, most expensive first."""
    length, _ = service.resolve_window(window)
    return [CostRow(**row) for row in alerts.cost_view(session, since=utcnow() - length)]
