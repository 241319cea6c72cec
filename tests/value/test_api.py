"""The value tree over the real app: building it, refusals, actuals from telemetry, feedback, scoring and a feed."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from mlpilot.core.db import session_scope, unit_of_work, utcnow
from mlpilot.core.runtime import Runtime
from mlpilot.scoring.models import ScoringRun
from mlpilot.value.compute import add_months, month_key
from mlpilot.value.service import value_summary
from tests.projects.factories import api_project
from tests.serving.factories import role_headers
from tests.value.factories import add_feedback, add_service, add_traffic

POSTGRES_URL = os.environ.get("MLPILOT_TEST_POSTGRES_URL")


def _node(client: TestClient, pid: int, **body: object) -> dict:
    response = client.post(f"/api/v1/projects/{pid}/value/nodes", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _kpi(parent: int, **extra: object) -> dict:
    return {"kind": "kpi", "parent_id": parent, "name_ko": "요청 수", "name_en": "Requests", "baseline": 0,
            "target": 100, "unit": "requests", "value_per_unit": 10, **extra}


def test_tree_refuses_bad_shapes_with_the_node_named(client: TestClient, runtime: Runtime) -> None:
    pid = api_project(client)["id"]
    base = f"/api/v1/projects/{pid}/value/nodes"
    add_service(runtime, project_id=pid, name="churn-svc")
    goal = _node(client, pid, kind="goal", name_ko="이탈 감소", name_en="Fewer churned customers")
    driver = _node(client, pid, kind="driver", parent_id=goal["id"], name_en="Retention offers")
    kpi = _node(client, pid, **_kpi(driver["id"], source="requests", service_name="churn-svc"))
    assert kpi["currency"] == "KRW" and kpi["direction"] == "higher"
    assert driver["name_ko"] == "Retention offers"  # one name fills the other

    refusals = [
        ({"kind": "goal", "name_en": "Second goal"}, "already has a goal"),
        ({**_kpi(kpi["id"], source="requests", service_name="churn-svc")}, "is a KPI; a KPI is a leaf"),
        ({**_kpi(driver["id"], source="requests", service_name="other")}, "service_name 'other' is not a service"),
        ({**_kpi(driver["id"], source="feed")}, "a feed needs connection_id"),
        ({"kind": "kpi", "parent_id": driver["id"], "name_en": "Bare", "source": "requests"},
         "KPI 'Bare': baseline, target, value_per_unit, unit required"),
        ({"kind": "driver", "parent_id": goal["id"], "name_en": "D", "baseline": 3}, "belong to KPI nodes only"),
        ({"kind": "driver", "name_en": "Orphan"}, "parent_id is required"),
    ]
    for body, message in refusals:
        response = client.post(base, json=body)
        assert response.status_code == 422 and message in response.json()["detail"], (body, response.text)
    wrong_type = client.post(base, json={**_kpi(driver["id"]), "baseline": "lots"})
    assert wrong_type.status_code == 422 and "baseline" in wrong_type.text
    wrong_kind = client.post(base, json={"kind": "wish", "name_en": "x"})
    assert wrong_kind.status_code == 422 and "kind" in wrong_kind.text

    # Moves: a cycle, a node under a KPI, and a good move.
    sub = _node(client, pid, kind="driver", parent_id=driver["id"], name_en="Sub-driver")
    cycle = client.patch(f"{base}/{driver['id']}", json={"parent_id": sub["id"]})
    assert cycle.status_code == 422 and "would make a cycle" in cycle.json()["detail"]
    self_loop = client.patch(f"{base}/{driver['id']}", json={"parent_id": driver["id"]})
    assert self_loop.status_code == 422 and "cycle" in self_loop.json()["detail"]
    under_kpi = client.patch(f"{base}/{sub['id']}", json={"parent_id": kpi["id"]})
    assert under_kpi.status_code == 422 and "is a KPI" in under_kpi.json()["detail"]
    assert client.patch(f"{base}/{kpi['id']}", json={"parent_id": sub["id"]}).status_code == 200
    assert client.delete(f"{base}/{sub['id']}").status_code == 204
    assert [n["name_en"] for n in client.get(base).json()] == ["Fewer churned customers", "Retention offers"]
    other = api_project(client, name="Other")
    assert client.patch(f"/api/v1/projects/{other['id']}/value/nodes/{driver['id']}",
                        json={"name_en": "x"}).status_code == 404


def test_actuals_from_telemetry_feedback_and_scoring_with_roi(client: TestClient, runtime: Runtime) -> None:
    pid = api_project(client)["id"]
    add_service(runtime, project_id=pid, name="churn-svc")
    today = utcnow().date()
    month = today.strftime("%Y-%m")
    goal = _node(client, pid, kind="goal", name_en="Keep customers")
    requests = _node(client, pid, **_kpi(goal["id"], source="requests", service_name="churn-svc"))
    rows = _node(client, pid, **_kpi(goal["id"], name_en="Predictions", source="predictions",
                                      service_name="churn-svc", value_per_unit=1))
    accuracy = _node(client, pid, **_kpi(goal["id"], name_en="Live accuracy", unit="share", baseline=0.5,
                                          target=0.9, value_per_unit=1000, source="live_accuracy",
                                          service_name="churn-svc"))
    scored = _node(client, pid, **_kpi(goal["id"], name_en="Rows scored", source="scoring_rows", value_per_unit=0))
    assert client.post(f"/api/v1/projects/{pid}/value/costs", json={
        "name": "Build", "kind": "one_off", "amount": 100, "start_month": today.isoformat()}).status_code == 201
    bad_cost = client.post(f"/api/v1/projects/{pid}/value/costs", json={
        "name": "Run", "kind": "monthly", "amount": -5, "start_month": today.isoformat()})
    assert bad_cost.status_code == 422 and "amount" in bad_cost.text

    add_traffic(runtime, service="churn-svc", day=today, requests=7, rows_each=3)
    add_traffic(runtime, service="churn-svc", day=today, requests=5, role="shadow")  # mirrored: not client traffic
    add_feedback(runtime, service="churn-svc", day=today, right=8, wrong=2)
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        session.add(ScoringRun(project_id=pid, source={}, output={}, state="succeeded", rows_done=250,
                               finished_at=utcnow()))
        session.add(ScoringRun(project_id=pid, source={}, output={}, state="failed", rows_done=99,
                               finished_at=utcnow()))

    summary = client.get(f"/api/v1/projects/{pid}/value", params={"months": 3, "days": 7})
    assert summary.status_code == 200, summary.text
    data = summary.json()
    kpis = {k["node_id"]: k for k in data["kpis"]}
    assert kpis[requests["id"]]["actual"] == 7 and kpis[requests["id"]]["monthly"][-1] == {"period": month,
                                                                                          "actual": 7}
    assert kpis[requests["id"]]["daily"][-1] == {"period": today.isoformat(), "actual": 7}
    assert kpis[rows["id"]]["actual"] == 21
    assert kpis[accuracy["id"]]["actual"] == 0.8 and kpis[accuracy["id"]]["progress"] == 0.75
    assert kpis[scored["id"]]["actual"] == 250
    # Benefit: 7 × 10 + 21 × 1 + (0.8 − 0.5) × 1000 + 0 = 391 this month, against 100 invested.
    roi = data["roi"]
    assert roi["total_benefit"] == 391 and roi["total_cost"] == 100 and roi["roi"] == 2.91
    assert roi["payback_months"] == 1 and not roi["payback_projected"]
    assert data["nodes"][0]["benefit"] == 391 and data["nodes"][0]["depth"] == 0

    # Feedback moves the actual.
    add_feedback(runtime, service="churn-svc", day=today - dt.timedelta(days=1) if today.day > 1 else today,
                 right=0, wrong=10)
    moved = client.get(f"/api/v1/projects/{pid}/value").json()
    assert {k["node_id"]: k for k in moved["kpis"]}[accuracy["id"]]["actual"] == 0.4
    # New telemetry is added to the daily rollup on the next read, and feedback replaced on a request is recounted.
    add_traffic(runtime, service="churn-svc", day=today, requests=3, rows_each=1)
    add_feedback(runtime, service="churn-svc", day=today, right=10, wrong=0)
    again = {k["node_id"]: k for k in client.get(f"/api/v1/projects/{pid}/value").json()["kpis"]}
    assert again[requests["id"]]["actual"] == 10 and again[rows["id"]]["actual"] == 24
    assert again[accuracy["id"]]["actual"] == 0.5  # today's 10 now right, yesterday's 10 wrong
    with session_scope(runtime.sessions) as session:
        typed = value_summary(session, pid)
    assert typed.roi.currency == "KRW" and len(typed.kpis) == 4
    assert client.get(f"/api/v1/projects/{pid}/value", params={"months": 99}).status_code == 422


def _feed_connection(client: TestClient, pid: int, url: str, table: str) -> int:
    made = client.post(f"/api/v1/projects/{pid}/connections",
                       json={"name": f"kpi-{uuid.uuid4().hex[:6]}", "kind": "sql",
                             "settings": {"url": url, "table": table}})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _check_feed(client: TestClient, pid: int, url: str, table: str, execute: object) -> None:
    today = utcnow().date()
    months = [month_key(add_months(today, -i)) for i in (2, 1, 0)]
    execute(f"CREATE TABLE {table} (month VARCHAR(7), churned INTEGER, note VARCHAR(20))")  # type: ignore[operator]
    for month, value in zip(months, (120, 100, 80), strict=True):
        execute(f"INSERT INTO {table} VALUES ('{month}', {value}, 'x')")  # type: ignore[operator]
    goal = _node(client, pid, kind="goal", name_en="Fewer churned customers")
    conn = _feed_connection(client, pid, url, table)
    kpi = _node(client, pid, **_kpi(goal["id"], name_en="Churned customers", unit="customers", baseline=120,
                                     target=60, value_per_unit=50_000, direction="lower", source="feed",
                                     connection_id=conn, feed_month_column="month", feed_value_column="churned"))
    data = client.get(f"/api/v1/projects/{pid}/value", params={"months": 3}).json()
    (found,) = [k for k in data["kpis"] if k["node_id"] == kpi["id"]]
    assert [p["actual"] for p in found["monthly"]] == [120, 100, 80] and found["error"] is None
    assert found["benefit"] == (20 + 40) * 50_000 and found["progress"] == round(40 / 60, 4)
    wrong = client.post(f"/api/v1/projects/{pid}/value/nodes", json={
        **_kpi(goal["id"], source="feed", connection_id=conn, feed_month_column="month", feed_value_column="note")})
    assert wrong.status_code == 422 and "'note' holds String" in wrong.json()["detail"]
    execute(f"DELETE FROM {table} WHERE month = '{months[1]}'")  # type: ignore[operator]
    gap = client.get(f"/api/v1/projects/{pid}/value", params={"months": 3}).json()
    (broken,) = [k for k in gap["kpis"] if k["node_id"] == kpi["id"]]
    assert f"missing month(s) {months[1]}" in broken["error"] and broken["monthly"][0]["actual"] is None


def test_business_feed_from_a_sqlite_table(client: TestClient, tmp_path: Path) -> None:
    pid = api_project(client)["id"]
    path = tmp_path / "kpis.sqlite"

    def execute(sql: str) -> None:
        with sqlite3.connect(path) as db:
            db.execute(sql)

    _check_feed(client, pid, f"sqlite:///{path}", "monthly_churn", execute)


@pytest.mark.skipif(not POSTGRES_URL, reason="MLPILOT_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_business_feed_from_a_postgresql_table(client: TestClient) -> None:
    assert POSTGRES_URL
    pid = api_project(client)["id"]
    table = f"churn_{uuid.uuid4().hex[:8]}"
    engine = create_engine(POSTGRES_URL)

    def execute(sql: str) -> None:
        with engine.begin() as conn:
            conn.execute(text(sql))

    try:
        _check_feed(client, pid, POSTGRES_URL, table, execute)
    finally:
        execute(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_a_member_of_another_project_sees_nothing(client: TestClient) -> None:
    mine = api_project(client, name="Mine")["id"]
    theirs = api_project(client, name="Theirs")["id"]
    goal = _node(client, theirs, kind="goal", name_en="Secret goal")
    headers = role_headers(client, mine, "member")
    assert client.get(f"/api/v1/projects/{mine}/value", headers=headers).status_code == 200
    for response in (client.get(f"/api/v1/projects/{theirs}/value", headers=headers),
                     client.get(f"/api/v1/projects/{theirs}/value/nodes", headers=headers),
                     client.patch(f"/api/v1/projects/{theirs}/value/nodes/{goal['id']}", json={"name_en": "x"},
                                  headers=headers),
                     client.delete(f"/api/v1/projects/{mine}/value/nodes/{goal['id']}", headers=headers)):
        assert response.status_code in (403, 404), response.text
        assert "Secret goal" not in response.text
    viewer = role_headers(client, theirs, "viewer")
    refused = client.post(f"/api/v1/projects/{theirs}/value/costs", headers=viewer, json={
        "name": "x", "kind": "monthly", "amount": 1, "start_month": "2026-01-01"})
    assert refused.status_code == 403
