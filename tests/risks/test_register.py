"""The risk register over the real app: manual risks with history, issues and change requests, access rules."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.projects.factories import api_project
from tests.serving.factories import role_headers


def test_manual_risk_round_trip_with_history(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    admin_id = client.get("/api/v1/me").json()["id"]
    made = client.post(f"{base}/risks", json={"title": "Client's labels disagree", "probability": 4, "impact": 3,
                                              "owner_id": admin_id, "mitigation": "Agree a labelling guide.",
                                              "due_date": "2026-12-31"})
    assert made.status_code == 201, made.text
    risk = made.json()
    assert risk["score"] == 12 and risk["source"] == "manual" and risk["status"] == "open"
    changed = client.patch(f"{base}/risks/{risk['id']}", json={"probability": 2, "status": "mitigating"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["score"] == 6 and changed.json()["status"] == "mitigating"
    closed = client.patch(f"{base}/risks/{risk['id']}", json={"status": "closed"}).json()
    assert closed["closed_reason"] == "manual" and closed["closed_at"]
    history = client.get(f"{base}/risks/{risk['id']}/history").json()
    assert [(h["field"], h["old_value"], h["new_value"]) for h in history] == [
        ("created", "", "Client's labels disagree"), ("probability", "4", "2"), ("status", "open", "mitigating"),
        ("status", "mitigating", "closed")]
    assert all(h["user_id"] == admin_id and h["source"] == "manual" for h in history)
    assert [r["id"] for r in client.get(f"{base}/risks", params={"status": "closed"}).json()] == [risk["id"]]
    assert client.get(f"{base}/risks", params={"source": "auto"}).json() == []


def test_bad_risks_are_refused_with_the_field_named(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    too_likely = client.post(f"{base}/risks", json={"title": "x", "probability": 6, "impact": 1})
    assert too_likely.status_code == 422 and "probability" in too_likely.text
    stranger = client.post("/api/v1/users", json={"username": "outsider", "password": "password-123"}).json()
    not_member = client.post(f"{base}/risks", json={"title": "x", "probability": 1, "impact": 1,
                                                     "owner_id": stranger["id"]})
    assert not_member.status_code == 422 and "owner_id" in not_member.json()["detail"]
    bad_status = client.get(f"{base}/risks", params={"status": "forgotten"})
    assert bad_status.status_code == 422 and "forgotten" in bad_status.json()["detail"]
    assert client.patch(f"{base}/risks/424242", json={"impact": 2}).status_code == 404
    plan = client.put(f"{base}/risk-plan", json={"target_metric": "roc_auc"})
    assert plan.status_code == 422 and "target_value" in plan.json()["detail"]
    assert client.put(f"{base}/risk-plan", json={"min_rows": 0}).status_code == 422


def test_issues_and_change_requests_with_decisions(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    admin_id = client.get("/api/v1/me").json()["id"]
    issue = client.post(f"{base}/issues", json={"title": "Source DB down for a week"}).json()
    assert issue["kind"] == "issue" and issue["status"] == "open" and issue["decision"] == "pending"
    moved = client.patch(f"{base}/issues/{issue['id']}", json={"status": "resolved"})
    assert moved.status_code == 200 and moved.json()["status"] == "resolved"
    change = client.post(f"{base}/issues", json={"kind": "change_request", "title": "Add a churn reason model",
                                                 "description": "The client asks for reasons per customer."}).json()
    decided = client.post(f"{base}/issues/{change['id']}/decision", json={"decision": "approved", "note": "OK"})
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["decision"] == "approved" and body["decided_by_id"] == admin_id and body["decided_at"]
    assert body["status"] == "in_progress"
    again = client.post(f"{base}/issues/{change['id']}/decision", json={"decision": "rejected"})
    assert again.status_code == 422 and "already approved" in again.json()["detail"]
    assert [i["id"] for i in client.get(f"{base}/issues", params={"kind": "change_request"}).json()] == [change["id"]]
    bad = client.post(f"{base}/issues/{change['id']}/decision", json={"decision": "maybe"})
    assert bad.status_code == 422


def test_members_of_another_project_see_nothing(client: TestClient) -> None:
    mine = api_project(client, name="Mine")
    theirs = api_project(client, name="Theirs")
    risk = client.post(f"/api/v1/projects/{mine['id']}/risks", json={"title": "r", "probability": 1,
                                                                      "impact": 1}).json()
    issue = client.post(f"/api/v1/projects/{mine['id']}/issues", json={"title": "i"}).json()
    outsider = role_headers(client, theirs["id"], "member")
    client.headers["Authorization"] = outsider["Authorization"]
    for path in (f"/api/v1/projects/{mine['id']}/risks", f"/api/v1/projects/{mine['id']}/risks/{risk['id']}",
                 f"/api/v1/projects/{mine['id']}/risks/{risk['id']}/history",
                 f"/api/v1/projects/{mine['id']}/issues", f"/api/v1/projects/{mine['id']}/risk-plan"):
        assert client.get(path).status_code in (403, 404), path
    # Through their own project's path, the other project's risk and issue do not exist either.
    assert client.get(f"/api/v1/projects/{theirs['id']}/risks/{risk['id']}").status_code in (403, 404)
    assert client.patch(f"/api/v1/projects/{theirs['id']}/risks/{risk['id']}",
                        json={"impact": 5}).status_code in (403, 404)
    assert client.post(f"/api/v1/projects/{theirs['id']}/issues/{issue['id']}/decision",
                       json={"decision": "approved"}).status_code in (403, 404)
    assert client.post(f"/api/v1/projects/{mine['id']}/risks/scan").status_code in (403, 404)
    assert client.get(f"/api/v1/projects/{theirs['id']}/risks").json() == []


def test_viewers_read_the_register_but_cannot_change_it(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    risk = client.post(f"{base}/risks", json={"title": "r", "probability": 2, "impact": 2}).json()
    viewer = role_headers(client, project["id"], "viewer")
    client.headers["Authorization"] = viewer["Authorization"]
    assert [r["id"] for r in client.get(f"{base}/risks").json()] == [risk["id"]]
    assert client.get(f"{base}/risks/{risk['id']}/history").status_code == 200
    assert client.post(f"{base}/risks", json={"title": "x", "probability": 1, "impact": 1}).status_code == 403
    assert client.patch(f"{base}/risks/{risk['id']}", json={"status": "closed"}).status_code == 403
    assert client.post(f"{base}/risks/scan").status_code == 403
    assert client.put(f"{base}/risk-plan", json={"min_rows": 10}).status_code == 403
