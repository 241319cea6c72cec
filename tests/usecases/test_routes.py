"""The explorer and screening API and pages over the real app: search, readiness on uploaded data, the matrix,
the build gate (go advances, no-go blocks training, an audited admin override lets it start)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from fastapi.testclient import TestClient

from mlpilot.usecases.screening import QUESTION_KEYS
from tests.datasets.factories import csv_bytes, synthetic_frame, upload_ok
from tests.projects.factories import api_project, login

ALL_YES = {key: {"answer": "yes", "note": ""} for key in QUESTION_KEYS}


def test_explorer_api_filters_and_searches(client: TestClient) -> None:
    everything = client.get("/api/v1/usecases").json()
    assert len(everything) >= 30
    assert {"key", "title", "industry", "task", "difficulty", "kpis", "blueprint", "needs_outside_engine"} <= set(
        everything[0])
    korean = client.get("/api/v1/usecases", params={"q": "이탈"}).json()
    assert [u["key"] for u in korean] == ["churn-prediction"] and korean[0]["title"]["ko"] == "고객 이탈 예측"
    english = client.get("/api/v1/usecases", params={"q": "FORECASTING", "industry": "energy"}).json()
    assert {u["key"] for u in english} == {"energy-load-forecasting", "solar-generation-forecasting"}
    hard_vision = client.get("/api/v1/usecases", params={"task": "object-detection"}).json()
    assert hard_vision and all(u["needs_outside_engine"] for u in hard_vision)
    bad = client.get("/api/v1/usecases", params={"difficulty": "trivial"})
    assert bad.status_code == 422 and "difficulty" in bad.json()["detail"]
    assert client.get("/api/v1/usecases", params={"q": "x" * 201}).status_code == 422
    one = client.get("/api/v1/usecases/churn-prediction")
    assert one.status_code == 200 and one.json()["blueprint"] == "churn-binary"
    missing = client.get("/api/v1/usecases/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    questions = client.get("/api/v1/usecases/screening-questions").json()
    assert [q["key"] for q in questions] == list(QUESTION_KEYS)


def test_explorer_page_in_english_and_korean(client: TestClient) -> None:
    login(client)
    page = client.get("/usecases", params={"industry": "manufacturing"})
    assert page.status_code == 200
    assert "Predictive maintenance" in page.text and "Churn prediction" not in page.text
    assert "/projects?usecase=predictive-maintenance" in page.text and "Needs an outside engine" in page.text
    client.cookies.set("mlpilot_lang", "ko")
    korean = client.get("/usecases", params={"q": "이탈"})
    assert korean.status_code == 200 and "고객 이탈 예측" in korean.text and "수요 예측" not in korean.text
    assert "이탈률" in korean.text
    bad = client.get("/usecases", params={"task": "clustering"})
    assert bad.status_code == 200 and "clustering" in bad.text
    client.cookies.set("mlpilot_lang", "en")


def _history_frame(days: int, rows_per_day: int = 1, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = dt.date(2023, 1, 1)
    n = days * rows_per_day
    day = [start + dt.timedelta(days=i // rows_per_day) for i in range(n)]
    temp = rng.normal(15, 8, size=n)
    return pl.DataFrame({"day": day, "temp": temp, "load": 100 + 3 * temp + rng.normal(0, 2, size=n)})


def test_screening_with_readiness_go_advances_and_matrix(client: TestClient) -> None:
    project = api_project(client)
    pid = project["id"]
    frame = synthetic_frame("binary", rows=300).with_columns(pl.col("y").alias("y_copy"))
    version = upload_ok(client, pid, name="customers", filename="customers.csv", data=csv_bytes(frame))["version"]
    url = f"/api/v1/projects/{pid}/screenings"
    bad_target = client.post(url, json={"answers": ALL_YES, "dataset_version_id": version["id"]})
    assert bad_target.status_code == 422 and "target" in bad_target.json()["detail"]
    bad_time = client.post(url, json={"answers": ALL_YES, "dataset_version_id": version["id"], "target": "y",
                                      "time_column": "when"})
    assert bad_time.status_code == 422 and "'when'" in bad_time.json()["detail"]
    made = client.post(url, json={"answers": ALL_YES, "dataset_version_id": version["id"], "target": "y"})
    assert made.status_code == 201, made.text
    body = made.json()
    readiness = body["readiness"]
    assert readiness["rows"] == 300 and readiness["columns"] == 5 and readiness["target"] == "y"
    assert sum(readiness["rows_per_class"].values()) == 300 and set(readiness["rows_per_class"]) == {"yes", "no"}
    assert readiness["leakage_columns"] == ["y_copy"]
    checks = {c["key"]: c["status"] for c in readiness["checks"]}
    assert checks == {"rows": "warn", "label": "pass", "rows_per_class": "pass", "missing": "pass", "leakage": "warn"}
    assert readiness["ready"] is True and body["decision"] == "go"
    assert body["value_score"] == 100 and 0 < body["feasibility_score"] < 100
    detail = client.get(f"/api/v1/projects/{pid}").json()
    assert detail["stage"] == "design" and detail["screening_decision"] == "go"

    # A second candidate, time-series, on too short a history: its readiness fails, so it is no-go.
    series = upload_ok(client, pid, name="load", filename="load.csv", data=csv_bytes(_history_frame(200)))["version"]
    energy = client.post(url, json={"answers": ALL_YES, "usecase_key": "energy-load-forecasting",
                                    "dataset_version_id": series["id"], "target": "load"}).json()
    history = next(c for c in energy["readiness"]["checks"] if c["key"] == "history")
    assert history["status"] == "fail" and energy["readiness"]["history_days"] == 199.0
    assert energy["decision"] == "no-go" and energy["readiness"]["ready"] is False
    matrix = client.get(f"/api/v1/projects/{pid}/screenings/matrix").json()
    assert {p["usecase_key"] for p in matrix} == {"churn-prediction", "energy-load-forecasting"}
    assert all(0 <= p["value_score"] <= 100 and p["quadrant"] for p in matrix)

    login(client)
    fragment = client.get(f"/projects/{pid}/_section/screening")
    assert fragment.status_code == 200
    assert 'data-testid="priority-matrix"' in fragment.text
    assert "&quot;type&quot;: &quot;scatter&quot;" in fragment.text
    assert "History length" in fragment.text and "199 days" in fragment.text
    client.cookies.set("mlpilot_lang", "ko")
    korean = client.get(f"/projects/{pid}/_section/screening").text
    assert "이력 기간" in korean, korean[korean.find("readiness-table"):][:1500]
    assert "&quot;text&quot;: &quot;\\uc2e4\\ud604 \\uac00\\ub2a5\\uc131&quot;" in korean
    client.cookies.set("mlpilot_lang", "en")


def _member_headers(client: TestClient, pid: int) -> dict[str, str]:
    client.post("/api/v1/users", json={"username": "mem1", "password": "password-123", "role": "member"})
    assert client.post(f"/api/v1/projects/{pid}/members", json={"username": "mem1"}).status_code in (200, 201)
    signed = TestClient(client.app)
    assert signed.post("/login", data={"username": "mem1", "password": "password-123"},
                       follow_redirects=False).status_code == 303
    return {"Authorization": f"Bearer {signed.post('/api/v1/tokens', json={'name': 't'}).json()['token']}"}


def test_no_go_blocks_training_until_an_audited_admin_override(client: TestClient) -> None:
    project = api_project(client, name="Blocked pilot")
    pid = project["id"]
    version = upload_ok(client, pid, name="d", filename="d.csv", data=csv_bytes(synthetic_frame("binary")))["version"]
    screened = client.post(f"/api/v1/projects/{pid}/screenings", json={"answers": {**ALL_YES, "needs_ml": "no"}})
    assert screened.json()["decision"] == "no-go"
    run = {"dataset_version_id": version["id"], "target": "y", "time_budget_s": 1}
    refused = client.post(f"/api/v1/projects/{pid}/runs", json=run)
    assert refused.status_code == 409 and "no-go" in refused.json()["detail"]
    stage = client.post(f"/api/v1/projects/{pid}/stage", json={"stage": "build"})
    assert stage.status_code == 409
    login(client)
    page_stage = client.post(f"/projects/{pid}/stage", data={"stage": "build"}, follow_redirects=False)
    assert page_stage.status_code == 303 and "no-go" in page_stage.headers["location"]
    assert "screened no-go" in client.get(page_stage.headers["location"]).text
    # A member (not an admin) may not override; an empty reason is refused.
    member = _member_headers(client, pid)
    denied = client.post(f"/api/v1/projects/{pid}/build-override", json={"reason": "we want it"}, headers=member)
    assert denied.status_code == 403
    short = client.post(f"/api/v1/projects/{pid}/build-override", json={"reason": ""})
    assert short.status_code == 422
    ok = client.post(f"/api/v1/projects/{pid}/build-override", json={"reason": "pilot agreed by the board"})
    assert ok.status_code == 204, ok.text
    again = client.post(f"/api/v1/projects/{pid}/build-override", json={"reason": "twice"})
    assert again.status_code == 409
    started = client.post(f"/api/v1/projects/{pid}/runs", json=run)
    assert started.status_code == 202, started.text
    gate = client.get(f"/api/v1/projects/{pid}/build-gate").json()
    assert gate["blocked"] is False and gate["build_override"] is True and gate["screening_decision"] == "no-go"
    assert [(c["action"], c["decision"]) for c in gate["changes"]] == [("override", "no-go"), ("screened", "no-go")]
    assert gate["changes"][0]["reason"] == "pilot agreed by the board" and gate["changes"][0]["user_id"]
    login(client)
    fragment = client.get(f"/projects/{pid}/_section/screening").text
    assert "pilot agreed by the board" in fragment and "override" in fragment
    assert client.post(f"/api/v1/projects/{pid}/stage", json={"stage": "build"}).status_code == 200
    # A new go screening clears the verdict; a new no-go blocks again (the override does not carry over).
    client.post(f"/api/v1/projects/{pid}/screenings", json={"answers": {**ALL_YES, "real_problem": "no"}})
    assert client.post(f"/api/v1/projects/{pid}/runs", json=run).status_code == 409
    assert client.get(f"/api/v1/projects/{pid}/build-gate").json()["blocked"] is True
    outsider = client.get("/api/v1/projects/987654/build-gate")
    assert outsider.status_code == 404


def test_explorer_api_pages_with_a_total_count(client: TestClient) -> None:
    total = len(client.get("/api/v1/usecases", params={"limit": 1000}).json())
    first = client.get("/api/v1/usecases", params={"limit": 5})
    assert first.headers["X-Total-Count"] == str(total) and len(first.json()) == 5
    rest = client.get("/api/v1/usecases", params={"limit": 1000, "offset": 5}).json()
    assert len(rest) == total - 5 and rest[0]["key"] not in {u["key"] for u in first.json()}
    assert client.get("/api/v1/usecases", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/usecases", params={"limit": 1001}).status_code == 422
