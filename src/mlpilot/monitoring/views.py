"""Web fragments of the monitoring domain: a service's KPI cards and live traffic/latency chart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlpilot.core.deps import DbSession
from mlpilot.core.i18n import get_translations
from mlpilot.monitoring import service
from mlpilot.serving import service as serving_service
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)


def traffic_chart(series: list[dict[str, Any]], *, window: str, gettext: Any) -> dict[str, Any]:
    """Return a Chart.js config: requests per bucket (left axis) and p50/p95/p99 latency in ms (right axis)."""
    fmt = "%H:%M" if window != "7d" else "%m-%d %H:%M"
    labels = [b["start"].strftime(fmt) for b in series]

    def line(label: str, key: str, color: str, axis: str, fill: bool = False) -> dict[str, Any]:
        return {"label": label, "data": [b[key] for b in series], "borderColor": color, "backgroundColor": color,
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


@router.get("/services/{name}/_metrics", response_class=HTMLResponse)
def metrics_fragment(name: str, request: Request, session: DbSession, user: PageUser,
                     window: str = "1h") -> HTMLResponse:
    serving_service.check_service_access(session, name=name, user=user)
    data = service.window_metrics(session, service_name=name, window=window)
    gettext = get_translations(request_locale(request, user)).gettext
    chart = traffic_chart(data["series"], window=window, gettext=gettext)
    return render(request, "monitoring/_metrics.html", user=user, name=name, data=data, totals=data["totals"],
                  chart=chart, window=window, windows=list(service.WINDOWS))
