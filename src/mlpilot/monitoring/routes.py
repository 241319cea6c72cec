"""REST routes of the monitoring domain: traffic and latency of a service."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession
from mlpilot.monitoring import service
from mlpilot.monitoring.schemas import MetricsRead, Window
from mlpilot.serving import service as serving_service

router = APIRouter(tags=["monitoring"])


@router.get("/services/{name}/metrics", response_model=MetricsRead)
def service_metrics(name: str, session: DbSession, user: CurrentUser, window: Window = "1h") -> MetricsRead:
    """Requests, errors, rows and p50/p95/p99 latency of a service, in total and per time bucket."""
    serving_service.check_service_access(session, name=name, user=user)
    return MetricsRead(**service.window_metrics(session, service_name=name, window=window))
