"""Detectors over live services and the plan, on real traffic, real feedback, real alerts and a real plan."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from mlpilot.core import jobs
from mlpilot.core.db import session_scope, utcnow
from mlpilot.core.runtime import Runtime
from mlpilot.notifications import service as notifications
from mlpilot.registry.flavors import load_model, write_reference
from mlpilot.risks import sync
from tests.dataplane.factories import churn_frame, make_churn_model
from tests.monitoring.test_alerts import put
from tests.monitoring.test_live_drift import drifted_records
from tests.notifications.test_notifications import Receiver
from tests.projects.factories import api_project
from tests.serving.factories import deploy, make_model_version

RECORD = {"tenure": 3, "charges": 70.0, "plan": "basic", "paperless": True}


def scan(client: TestClient, runtime: Runtime, project_id: int) -> list[dict]:
    """Start the scan job over the API, wait for it, and return the open detector-raised risks."""
    started = client.post(f"/api/v1/projects/{project_id}/risks/scan")
    assert started.status_code == 202, started.text
    job = jobs.wait_for_job(runtime, started.json()["job_id"], timeout=60)
    assert job.state == "succeeded" and job.result and job.result["failed"] == [], job.error or job.log
    risks = client.get(f"/api/v1/projects/{project_id}/risks", params={"source": "auto", "status": "open"})
    return risks.json()


def test_service_alerts_and_objectives_raise_risks(client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    project = api_project(client)
    pid = project["id"]
    model_dir = make_churn_model(tmp_path / "churn", rounds=5)
    training = churn_frame(rows=2000, seed=5).drop("churn")
    write_reference(model_dir, training, load_model(model_dir).predict(training))
    deploy(client, project_id=pid, name="churn", model_version_id=make_model_version(
        runtime, project_id=pid, model_dir=model_dir))
    assert client.put(f"/api/v1/projects/{pid}/risk-plan", json={"max_error_rate": 0.1}).status_code == 200
    assert scan(client, runtime, pid) == []

    # Live accuracy from ground truth: one wrong answer in two, under a rule asking for 0.9.
    labels = {}
    for i in range(2):
        answer = client.post("/api/v1/services/churn/predict", json={"records": [RECORD], "request_id": f"r{i}"})
        labels[f"r{i}"] = answer.json()["predictions"][0]["label"]
    sent = client.post("/api/v1/services/churn/feedback", json={"feedback": [
        {"request_id": "r0", "actual": labels["r0"]}, {"request_id": "r1", "actual": "not-" + labels["r1"]}]})
    assert sent.json()["matched"] == 2
    # Drifted inputs: long-tenure, expensive customers on one plan, enough rows for one drift window.
    rng = np.random.default_rng(3)
    for _ in range(6):
        assert client.post("/api/v1/services/churn/predict",
                           json={"records": drifted_records(rng, 10)}).status_code == 200
    for rule in ({"name": "accuracy", "metric": "accuracy", "op": "<", "threshold": 0.9},
                 {"name": "drift", "metric": "drift_share", "op": ">", "threshold": 0.3}):
        assert client.post("/api/v1/monitoring/alert-rules", json={"service": "churn", **rule}).status_code == 201
    fired = client.post("/api/v1/monitoring/alert-rules/evaluate").json()
    assert {e["metric"] for e in fired} == {"accuracy", "drift_share"}
    # Failed requests above the 10 % objective of the plan.
    put(runtime, "churn", status=500, n=4)

    risks = {r["source"]: r for r in scan(client, runtime, pid)}
    assert set(risks) == {"live_accuracy_alerts", "drift_alerts", "service_objective"}, risks
    assert risks["drift_alerts"]["evidence_key"] == "drift_alerts:service:churn:drift"
    assert risks["drift_alerts"]["evidence_url"] == "/services/churn"
    assert risks["live_accuracy_alerts"]["impact"] == 5 and "accuracy 0.5" in risks["live_accuracy_alerts"][
        "description"]
    assert risks["service_objective"]["evidence_key"] == "service_objective:service:churn:error_rate"

    # The objective is relaxed; a later scan past the alerts' look-back closes all three.
    assert client.put(f"/api/v1/projects/{pid}/risk-plan",
                      json={"max_error_rate": 0.9, "alert_lookback_hours": 1}).status_code == 200
    with session_scope(runtime.sessions) as session:
        later = utcnow() + dt.timedelta(hours=2)
        result = sync.sync_project(session, store=runtime.store, project_id=pid, now=later)
    assert sorted(result.closed) == sorted(r["id"] for r in risks.values())
    history = client.get(f"/api/v1/projects/{pid}/risks/{risks['drift_alerts']['id']}/history").json()
    assert history[-1]["source"] == "drift_alerts" and history[-1]["new_value"] == "closed"


def test_a_milestone_projected_past_its_due_date(client: TestClient, runtime: Runtime) -> None:
    from mlpilot.notifications.worker import stop_notifier

    stop_notifier(runtime)  # deliver by hand below, so the background loop cannot race the assertion
    receiver = Receiver()
    assert client.post("/api/v1/notifications/subscriptions", json={
        "name": "pm", "channel": "webhook", "target": receiver.url, "events": ["risk.raised"]}).status_code == 201
    try:
        check_milestone_risk(client, runtime, receiver)
    finally:
        receiver.close()


def check_milestone_risk(client: TestClient, runtime: Runtime, receiver: Receiver) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    today = dt.date.today()
    milestone = client.post(f"{base}/milestones", json={
        "name": "Model accepted", "start_date": (today - dt.timedelta(days=10)).isoformat(),
        "due_date": (today + dt.timedelta(days=5)).isoformat()}).json()
    task = client.post(f"{base}/tasks", json={
        "title": "Tune the model", "milestone_id": milestone["id"], "start_date": today.isoformat(),
        "due_date": (today + dt.timedelta(days=12)).isoformat()}).json()
    [risk] = scan(client, runtime, project["id"])
    # The open task ends 7 days after the milestone; the forecast's P85 (prior pace: tasks overrun) is later still.
    late_days = int(risk["title"].split(" projected ")[1].split(" day(s)")[0])
    assert risk["source"] == "milestone_late" and late_days >= 7 and risk["title_ko"]
    assert "P85 of the schedule forecast" in risk["description"]
    with session_scope(runtime.sessions) as session:
        notifications.deliver_due(session, settings=runtime.settings)
    [call] = receiver.calls
    body = json.loads(call["body"])
    assert body["event"] == "risk.raised" and body["payload"]["risk_id"] == risk["id"]
    assert body["payload"]["source"] == "milestone_late" and "Model accepted" in body["payload"]["title"]
    assert risk["evidence_url"] == f"/projects/{project['id']}#section-plan"
    client.patch(f"{base}/tasks/{task['id']}", json={"status": "done"})
    assert scan(client, runtime, project["id"]) == []
    closed = client.get(f"{base}/risks/{risk['id']}").json()
    assert closed["status"] == "closed" and closed["closed_reason"] == "evidence_cleared"
    # The task slips again: the same risk reopens (deduplicated), with the reopening in its history.
    client.patch(f"{base}/tasks/{task['id']}", json={"status": "todo"})
    [again] = scan(client, runtime, project["id"])
    assert again["id"] == risk["id"]
    fields = [(h["field"], h["new_value"]) for h in client.get(f"{base}/risks/{risk['id']}/history").json()]
    assert fields[-1] == ("status", "open") and ("status", "closed") in fields


def test_a_milestone_on_plan_is_a_risk_once_the_forecast_p85_passes_its_due_date(client: TestClient,
                                                                                 runtime: Runtime) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    today = dt.date.today()
    milestone = client.post(f"{base}/milestones", json={
        "name": "Interim report", "start_date": today.isoformat(),
        "due_date": (today + dt.timedelta(days=20)).isoformat()}).json()
    # Planned to end exactly on the due date: nothing is late yet, but with no history the prior pace (tasks take
    # 1.2 times their plan at the median) puts the P85 well past it.
    client.post(f"{base}/tasks", json={"title": "Write the report", "milestone_id": milestone["id"],
                                       "start_date": today.isoformat(),
                                       "due_date": (today + dt.timedelta(days=20)).isoformat()})
    [risk] = scan(client, runtime, project["id"])
    assert risk["source"] == "milestone_late" and "P85 of the schedule forecast" in risk["description"]
    outlook = client.get(f"{base}/forecast").json()
    [point] = outlook["milestones"]
    assert dt.date.fromisoformat(point["p85"]) > today + dt.timedelta(days=20)
    assert point["p85"] in risk["description"]
    # Given a generous due date the same plan raises nothing.
    client.patch(f"{base}/milestones/{milestone['id']}",
                 json={"due_date": (today + dt.timedelta(days=60)).isoformat()})
    assert scan(client, runtime, project["id"]) == []
