"""Web fragments of the monitoring domain: a service's KPI cards and live traffic/latency chart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import Role
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput, MlpilotError, PermissionDenied
from mlpilot.core.i18n import get_translations
from mlpilot.dataplane.server import DataPlane
from mlpilot.dataplane.telemetry import PREDICTION_COLUMN
from mlpilot.monitoring import outcome_views, service, verdict
from mlpilot.monitoring.metrics import Bucket
from mlpilot.serving import service as serving_service
from mlpilot.serving.traffic import attached_dataplane
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
router.include_router(outcome_views.router)


def traffic_chart(series: list[Bucket], *, window: str, gettext: Any) -> dict[str, Any]:
    """Return a Chart.js config: requests per bucket (left axis) and p50/p95/p99 latency in ms (right axis)."""
    fmt = "%Y-%m-%d %H:%M"  # a calendar date on every time axis, whatever the window
    labels = [b.start.strftime(fmt) for b in series]

    def line(label: str, key: str, color: str, axis: str, fill: bool = False) -> dict[str, Any]:
        return {"label": label, "data": [getattr(b, key) for b in series], "borderColor": color,
                "backgroundColor": color,
                "yAxisID": axis, "pointRadius": 2, "borderWidth": 2, "spanGaps": False, "fill": fill,
                "tension": 0.2}

    return {
        "type": "line",
        "data": {"labels": labels, "datasets": [
            line(gettext("Requests"), "requests", "#2f5bea", "y"),
            line(gettext("Errors"), "errors", "#dc2626", "y"),
            line(gettext("p50 latency (ms)"), "latency_p50_ms", "#16a34a", "latency"),
            line(gettext("p95 latency (ms)"), "latency_p95_ms", "#d97706", "latency"),
            line(gettext("p99 latency (ms)"), "latency_p99_ms", "#7c3aed", "latency"),
        ]},
        "options": {
            "interaction": {"mode": "index", "intersect": False},
            "scales": {
                "y": {"position": "left", "beginAtZero": True, "title": {"display": True, "text": gettext("Requests")}},
                "latency": {"position": "right", "beginAtZero": True, "grid": {"drawOnChartArea": False},
                            "title": {"display": True, "text": gettext("Latency (ms)")}},
            },
        },
    }


@router.get("/services/{name}/_metrics", response_class=HTMLResponse, dependencies=[access.Service.read])
def metrics_fragment(name: str, request: Request, session: DbSession, user: PageUser,
                     window: str = "1h") -> HTMLResponse:
    serving_service.check_service_access(session, name=name, user=user)
    data = service.window_metrics(session, service_name=name, window=window)
    gettext = get_translations(request_locale(request, user)).gettext
    chart = traffic_chart(data.series, window=window, gettext=gettext)
    return render(request, "monitoring/_metrics.html", user=user, name=name, data=data, totals=data.totals,
                  chart=chart, window=window, windows=list(service.WINDOWS))


PALETTE = ("#2f5bea", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d")


def services_chart(series: dict[str, list[dict[str, Any]]], *, window: str, key: str, title: str) -> dict[str, Any]:
    """A Chart.js line per service of `key` (requests or a latency percentile) over the window."""
    fmt = "%Y-%m-%d %H:%M"  # a calendar date on every time axis, whatever the window
    first = next(iter(series.values()), [])
    labels = [b["start"].strftime(fmt) for b in first]
    datasets = [{"label": name, "data": [b[key] for b in buckets], "borderColor": PALETTE[i % len(PALETTE)],
                 "backgroundColor": PALETTE[i % len(PALETTE)], "pointRadius": 1, "borderWidth": 2, "tension": 0.2}
                for i, (name, buckets) in enumerate(series.items())]
    return {"type": "line", "data": {"labels": labels, "datasets": datasets},
            "options": {"interaction": {"mode": "index", "intersect": False},
                        "scales": {"y": {"beginAtZero": True, "title": {"display": True, "text": title}}}}}


def live_drift_cards(plane: DataPlane | None, *, gettext: Any, services: set[str] | None = None,
                     importance: Mapping[str, Mapping[str, float]] | None = None) -> list[dict[str, Any]]:
    """Per service with sampled traffic: the latest verdict (weighted by the model's feature importance, never
    contradicting its features), every feature with its statistic and severity, and the verdict over windows."""
    if plane is None:
        return []
    cards = []
    for name in plane.traffic.services():
        if services is not None and name not in services:
            continue
        drift = service.service_drift(plane, service_name=name)
        weights = (importance or {}).get(name)

        def judged(columns: Mapping[str, Mapping[str, object]], weights: Mapping[str, float] | None = weights
                   ) -> verdict.DriftVerdict:
            return verdict.judge(columns, importance=weights, exclude=(PREDICTION_COLUMN,))

        latest = judged(drift.latest.columns) if drift.latest is not None else None
        windows = [(w, judged(w.columns)) for w in drift.windows if w.share_drifted is not None]
        cards.append({"service": name, "drift": drift, "latest": drift.latest, "verdict": latest,
                      "chart": _verdict_chart(windows, gettext=gettext),
                      "features_chart": _severity_chart(latest, gettext=gettext) if latest else None,
                      "windows": len(drift.windows)})
    return cards


def _verdict_chart(windows: list[tuple[Any, verdict.DriftVerdict]], *, gettext: Any) -> dict[str, Any] | None:
    """Weighted share of drifting features per window, coloured by the window's verdict; None for one window."""
    if len(windows) < 2:
        return None
    colors = {"drift": "#dc2626", "partial": "#ea580c", "none": "#16a34a"}
    return {"type": "bar", "data": {
        "labels": [w.window_start.strftime("%Y-%m-%d %H:%M") for w, _ in windows],
        "datasets": [{"label": gettext("Weighted share of drifting features (%)"),
                      "data": [round(v.weighted_share * 100, 1) for _, v in windows],
                      "backgroundColor": [colors[v.level] for _, v in windows]}]},
        "options": {"scales": {"y": {"beginAtZero": True, "max": 100}}}}


def _severity_chart(judged: verdict.DriftVerdict, *, gettext: Any) -> dict[str, Any] | None:
    """PSI per feature as horizontal bars coloured by severity, every label shown."""
    features = [f for f in judged.features if f.psi is not None]
    if len(features) < 2:
        return None
    return {"type": "bar", "data": {
        "labels": [f.column for f in features],
        "datasets": [{"label": "PSI", "data": [round(f.psi or 0.0, 4) for f in features],
                      "backgroundColor": [verdict.SEVERITY_COLORS[f.severity] for f in features]}]},
        "options": {"indexAxis": "y", "plugins": {"legend": {"display": False},
                                                  "title": {"display": True,
                                                            "text": gettext("PSI per feature, coloured by severity")}},
                    "scales": {"y": {"ticks": {"autoSkip": False}}, "x": {"beginAtZero": True}}}}


def service_importance(session: DbSession, names: set[str]) -> dict[str, dict[str, float]]:
    """The permutation importance of each service's primary model (from its run), to weight the drift verdict."""
    from mlpilot.registry import service as registry_service
    from mlpilot.training import service as training_service

    found: dict[str, dict[str, float]] = {}
    for name in names:
        svc = serving_service.find_service_by_name(session, name=name)
        if svc is None or svc.model_version_id is None:
            continue
        version = registry_service.get_model_version(session, model_version_id=svc.model_version_id)
        if version.run_id is None:
            continue
        try:
            run = training_service.get_run(session, run_id=version.run_id)
        except MlpilotError:
            continue
        scores = (run.evaluation or {}).get("permutation_importance") or {}
        found[name] = {str(k): float(v) for k, v in scores.items() if isinstance(v, int | float)}
    return found


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                    window: str = "24h", alert_error: str | None = None) -> HTMLResponse:
    """One screen for every service: traffic, latency and errors per backend, alerts and cost."""
    from mlpilot.monitoring import alerts

    visible = None if user.role == "admin" else {s.name for s in serving_service.list_user_services(session,
                                                                                                     user=user)}
    data = service.overview(session, window=window, services=visible)
    gettext = get_translations(request_locale(request, user)).gettext
    charts = {
        "requests": services_chart(data["series"], window=window, key="requests", title=gettext("Requests")),
        "p95": services_chart(data["series"], window=window, key="latency_p95_ms", title=gettext("p95 latency (ms)")),
        "errors": services_chart(data["series"], window=window, key="errors", title=gettext("Errors")),
    }
    length, _ = service.resolve_window(window)
    plane = attached_dataplane(runtime)
    drifted = set(plane.traffic.services()) if plane is not None else set()
    drifted = drifted if visible is None else drifted & visible
    return render(request, "monitoring/overview.html", metrics=alerts.METRICS, alert_error=alert_error,
                  services=[s.name for s in serving_service.list_user_services(session, user=user)], user=user,
                  data=data, charts=charts, window=window,
                  windows=list(service.WINDOWS), rules=alerts.list_rules(session, services=visible),
                  events=alerts.list_events(session, limit=20, services=visible),
                  costs=alerts.cost_view(session, since=data["until"] - length, services=visible),
                  quality=service.quality_overview(session, window=window, services=visible),
                  drift_cards=live_drift_cards(plane, gettext=gettext, services=visible,
                                               importance=service_importance(session, drifted)),
                  verdict=verdict)


@router.post("/monitoring/alert-rules")
def create_rule_from_form(request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                          name: Annotated[str, Form()] = "", service_name: Annotated[str, Form(alias="service")] = "",
                          metric: Annotated[str, Form()] = "", op: Annotated[str, Form()] = ">",
                          threshold: Annotated[str, Form()] = "", window_minutes: Annotated[int, Form()] = 5,
                          cooldown_minutes: Annotated[int, Form()] = 30) -> Response:
    """Add an alert rule from the monitoring screen (admins); a refused rule comes back with the reason."""
    from mlpilot.monitoring import alerts

    try:
        if user.role != Role.admin:
            raise PermissionDenied("Only administrators manage alert rules.")
        try:
            value = float(threshold)
        except ValueError:
            raise InvalidInput(f"The threshold must be a number; got {threshold!r}.") from None
        alerts.create_rule(session, name=name, service=service_name, metric=metric, op=op, threshold=value,
                           window_minutes=window_minutes, cooldown_minutes=cooldown_minutes)
    except MlpilotError as exc:
        response = monitoring_page(request, session, runtime, user, alert_error=exc.detail)
        response.status_code = exc.status
        return response
    return RedirectResponse("/monitoring#alerts", status_code=303)


@router.post("/monitoring/alert-rules/{rule_id}/delete", dependencies=[access.AlertRule.write])
def delete_rule_from_page(rule_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                          user: PageUser) -> Response:
    from mlpilot.monitoring import alerts

    try:
        if user.role != Role.admin:
            raise PermissionDenied("Only administrators manage alert rules.")
        alerts.delete_rule(session, rule_id=rule_id)
    except MlpilotError as exc:
        response = monitoring_page(request, session, runtime, user, alert_error=exc.detail)
        response.status_code = exc.status
        return response
    return RedirectResponse("/monitoring#alerts", status_code=303)
