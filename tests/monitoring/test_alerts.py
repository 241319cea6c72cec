"""Alert rules fire once per cooldown into the notifications outbox; the cost view prices traffic per service."""

from __future__ import annotations

import datetime as dt
import json

from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope, utcnow
from mlpilot.core.runtime import Runtime
from mlpilot.dataplane.telemetry import InferenceEvent
from mlpilot.monitoring import service as monitoring_service
from mlpilot.notifications import service as notifications
from tests.notifications.test_notifications import Receiver


def put(runtime: Runtime, service: str, *, status: int = 200, latency: float = 10.0, role: str = "primary",
        n: int = 1) -> None:
    for _ in range(n):
        runtime.dataplane.sink.put(InferenceEvent(
            service=service, model_version="1", ts=utcnow() - dt.timedelta(seconds=5), latency_ms=latency,
            status_code=status, rows=2, error=None if status < 400 else "bad", backend="model:m v1", role=role))
    monitoring_service.flush_inference_sink(runtime)


def test_error_rate_rule_fires_once_per_cooldown_and_reaches_a_webhook(client: TestClient, runtime: Runtime) -> None:
    from mlpilot.notifications.worker import stop_notifier

    stop_notifier(runtime)  # deliver by hand below, so the background loop cannot race the assertion
    receiver = Receiver()
    try:
        assert client.post("/api/v1/notifications/subscriptions", json={
            "name": "ops", "channel": "webhook", "target": receiver.url, "events": ["alert.fired"],
            "secret": "k"}).status_code == 201
        made = client.post("/api/v1/monitoring/alert-rules", json={
            "name": "errors", "service": "churn", "metric": "error_rate", "threshold": 0.2, "window_minutes": 5,
            "cooldown_minutes": 60})
        assert made.status_code == 201, made.text
        put(runtime, "churn", n=8)
        assert client.post("/api/v1/monitoring/alert-rules/evaluate").json() == []
        put(runtime, "churn", status=500, n=4)
        [fired] = client.post("/api/v1/monitoring/alert-rules/evaluate").json()
        assert fired["metric"] == "error_rate" and abs(fired["value"] - 4 / 12) < 1e-3
        assert client.post("/api/v1/monitoring/alert-rules/evaluate").json() == []  # cooling down
        assert len(client.get("/api/v1/monitoring/alerts").json()) == 1
        with session_scope(runtime.sessions) as session:
            notifications.deliver_due(session, settings=runtime.settings)
        [call] = receiver.calls
        body = json.loads(call["body"])
        assert body["event"] == "alert.fired" and body["payload"]["service"] == "churn"
        assert "error_rate" in body["payload"]["title"]
    finally:
        receiver.close()


def test_shadow_calls_are_not_client_traffic_but_cost_compute(client: TestClient, runtime: Runtime) -> None:
    put(runtime, "pricing", n=3, latency=20.0)
    put(runtime, "pricing", n=5, latency=40.0, role="shadow")
    with session_scope(runtime.sessions) as session:
        result = monitoring_service.window_metrics(session, service_name="pricing", window="1h")
    assert result.totals.requests == 3
    assert client.put("/api/v1/monitoring/costs/pricing", json={"unit_cost": 0.01}).status_code == 204
    put(runtime, "search", n=2, latency=500.0)
    rows = client.get("/api/v1/monitoring/costs?window=1h").json()
    assert [r["service"] for r in rows] == ["pricing", "search"]
    pricing, search = rows
    assert pricing["requests"] == 8 and abs(pricing["cost"] - 0.08) < 1e-9 and pricing["share"] == 1.0
    assert abs(pricing["compute_seconds"] - 0.26) < 1e-9
    assert search["cost"] == 0 and search["compute_seconds"] == 1.0


def test_bad_alert_rules_are_refused_clearly(client: TestClient) -> None:
    bad = client.post("/api/v1/monitoring/alert-rules", json={
        "name": "x", "service": "churn", "metric": "accuracy_vibes", "threshold": 1})
    assert bad.status_code == 422 and "Unknown metric" in bad.text and "error_rate" in bad.text
    bad = client.post("/api/v1/monitoring/alert-rules", json={
        "name": "x", "service": "churn", "metric": "requests", "threshold": 1, "op": ">="})
    assert bad.status_code == 422 and "'>' or '<'" in bad.text
    assert client.put("/api/v1/monitoring/costs/churn", json={"unit_cost": -1}).status_code == 422


def test_cli_alerts_and_cost(live_server_url: str, runtime: Runtime) -> None:
    from typer.testing import CliRunner

    from mlpilot.cli.main import app

    runner = CliRunner()
    empty = runner.invoke(app, ["monitor", "alerts"])
    assert empty.exit_code == 0, empty.output
    assert "No alert rules yet" in empty.output
    made = runner.invoke(app, ["monitor", "alerts", "--add", "slow", "--service", "churn", "--metric",
                               "latency_p95_ms", "--threshold", "250"])
    assert made.exit_code == 0 and "created" in made.output and "latency_p95_ms" in made.output
    bad = runner.invoke(app, ["monitor", "alerts", "--add", "x", "--service", "churn", "--metric", "nope",
                              "--threshold", "1"])
    assert bad.exit_code == 1 and "Unknown metric" in bad.output
    put(runtime, "churn", n=4)
    cost = runner.invoke(app, ["monitor", "cost", "--set", "churn", "--unit-cost", "0.5", "--window", "1h"])
    assert cost.exit_code == 0, cost.output
    assert "churn" in cost.output and "2" in cost.output


def test_monitoring_screen_shows_every_service_or_empty_states(client: TestClient, runtime: Runtime) -> None:
    from tests.projects.factories import login

    login(client)
    empty = client.get("/monitoring")
    assert empty.status_code == 200
    assert "No traffic in this window" in empty.text and "No alert rules yet" in empty.text
    put(runtime, "churn", n=3)
    put(runtime, "churn", n=2, role="shadow")
    put(runtime, "pricing", n=1, status=500)
    page = client.get("/monitoring?window=1h")
    assert page.status_code == 200
    assert "churn" in page.text and "pricing" in page.text and "shadow" in page.text and "model:m v1" in page.text
    assert "data-chart" in page.text
    client.cookies.set("mlpilot_lang", "ko")
    korean = client.get("/monitoring?window=1h")
    assert "서비스·백엔드별 트래픽" in korean.text
