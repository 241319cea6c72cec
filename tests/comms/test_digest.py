"""The weekly digest's figures come from the live plan, risks, runs and services (typed, as the preview API)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient

from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.training import service as training_service
from tests.dataplane.factories import make_churn_model
from tests.datasets.factories import make_version, synthetic_frame
from tests.monitoring.test_alerts import put
from tests.projects.factories import api_project
from tests.serving.factories import deploy, make_model_version

TODAY = dt.date.today()


def test_digest_figures_match_the_plan_risks_runs_and_services(client: TestClient, runtime: Runtime,
                                                               tmp_path: Path) -> None:
    project = api_project(client)
    pid = project["id"]
    base = f"/api/v1/projects/{pid}"
    me = client.get("/api/v1/me").json()
    milestone = client.post(f"{base}/milestones", json={
        "name": "Data ready", "start_date": (TODAY - dt.timedelta(days=20)).isoformat(),
        "due_date": (TODAY + dt.timedelta(days=10)).isoformat()}).json()
    for title, status, start, due in (("Collect", "done", -20, -10), ("Clean", "todo", -10, -2),
                                      ("Label", "todo", 0, 8)):
        made = client.post(f"{base}/tasks", json={
            "title": title, "milestone_id": milestone["id"], "status": status,
            "start_date": (TODAY + dt.timedelta(days=start)).isoformat(),
            "due_date": (TODAY + dt.timedelta(days=due)).isoformat()})
        assert made.status_code == 201, made.text
    client.post(f"{base}/risks", json={"title": "Labels disagree", "probability": 4, "impact": 5})
    closed = client.post(f"{base}/risks", json={"title": "Old", "probability": 1, "impact": 1}).json()
    client.patch(f"{base}/risks/{closed['id']}", json={"status": "closed"})
    client.post(f"{base}/client-requests", json={"title": "Figures", "received_on": (TODAY - dt.timedelta(
        days=5)).isoformat(), "respond_by": (TODAY - dt.timedelta(days=1)).isoformat()})
    client.post(f"{base}/deliverables", json={"milestone_id": milestone["id"], "kind": "document", "name": "Plan"})

    # A real training run and a real service with traffic: 3 answered requests and 1 failed.
    with session_scope(runtime.sessions) as session:
        version_id = make_version(session, runtime, project_id=pid, user_id=me["id"],
                                  frame=synthetic_frame("binary"), name="train")
        run = training_service.create_run(session, runtime=runtime, project_id=pid, dataset_version_id=version_id,
                                          target="y", task="binary", engine="lightgbm", time_budget_s=5,
                                          user_id=me["id"], params={"n_estimators": 20})
        job_id = run.job_id
    assert jobs.wait_for_job(runtime, job_id, timeout=120).state == "succeeded"
    deploy(client, project_id=pid, name="churn-digest", model_version_id=make_model_version(
        runtime, project_id=pid, model_dir=make_churn_model(tmp_path / "m", rounds=3)))
    put(runtime, "churn-digest", status=200, latency=20.0, n=3)
    put(runtime, "churn-digest", status=500, latency=40.0, n=1)

    digest = client.get(f"{base}/digest")
    assert digest.status_code == 200, digest.text
    figures = digest.json()
    schedule = client.get(f"{base}/schedule").json()
    assert figures["percent_done"] == schedule["percent_done"] == 25.0  # 1 of the milestone and 3 tasks
    assert figures["late_items"] == schedule["late"] == 1
    forecast = client.get(f"{base}/forecast").json()
    assert figures["forecast_p85"] == forecast["project"]["p85"]
    assert [m["name"] for m in figures["milestones"]] == ["Data ready"]
    assert figures["open_risks"] == 1 and figures["top_risks"][0] == {
        "title": "Labels disagree", "score": 20, "status": "open", "source": "manual"}
    with session_scope(runtime.sessions) as session:
        best = training_service.project_summary(session, project_id=pid).best
    assert best is not None and figures["best_model"]["run_id"] == best.run_id
    assert figures["best_model"]["metric_value"] == best.metric_value
    [svc] = figures["services"]
    assert (svc["name"], svc["requests"], svc["errors"], svc["error_rate"]) == ("churn-digest", 4, 1, 0.25)
    assert svc["latency_p95_ms"] is not None and svc["latency_p95_ms"] >= 20.0
    assert (figures["open_requests"], figures["overdue_requests"]) == (1, 1)
    assert (figures["deliverables_awaiting"], figures["deliverables_rejected"]) == (1, 0)
