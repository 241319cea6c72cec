"""The pmo API and the plan section over the real app."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

from fastapi.testclient import TestClient

from tests.projects.factories import api_project, login


def test_milestone_and_task_api(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    made = client.post(f"{base}/milestones", json={"name": "Data ready", "stage": "data",
                                                   "start_date": "2026-01-01", "due_date": "2026-01-20"})
    assert made.status_code == 201, made.text
    milestone = made.json()
    bad = client.post(f"{base}/tasks", json={"title": "T", "start_date": "2026-02-01", "due_date": "2026-01-01"})
    assert bad.status_code == 422 and "due_date" in bad.json()["detail"]
    stranger = client.post("/api/v1/users", json={"username": "stranger", "password": "password-123"}).json()
    not_member = client.post(f"{base}/tasks", json={"title": "T", "owner_id": stranger["id"],
                                                     "start_date": "2026-01-01", "due_date": "2026-01-02"})
    assert not_member.status_code == 422 and "owner_id" in not_member.json()["detail"]
    task = client.post(f"{base}/tasks", json={"title": "Extract tables", "milestone_id": milestone["id"],
                                              "start_date": "2026-01-01", "due_date": "2026-01-10"})
    assert task.status_code == 201, task.text
    patched = client.patch(f"{base}/tasks/{task.json()['id']}", json={"status": "done", "completed_on": "2026-01-12"})
    assert patched.status_code == 200 and patched.json()["completed_on"] == "2026-01-12"
    reached = client.patch(f"{base}/milestones/{milestone['id']}", json={"completed_on": "2026-01-19"})
    assert reached.json()["completed_on"] == "2026-01-19"
    assert [t["title"] for t in client.get(f"{base}/tasks").json()] == ["Extract tables"]
    schedule = client.get(f"{base}/schedule").json()
    assert schedule["done"] == 2 and schedule["done_late"] == 1 and schedule["percent_done"] == 100.0
    assert client.get("/api/v1/projects/4242/milestones").status_code == 404


def test_plan_fragment_chart_and_forms(client: TestClient) -> None:
    project = api_project(client)
    login(client)
    url = f"/projects/{project['id']}/_section/plan"
    empty = client.get(url)
    assert empty.status_code == 200 and "No plan yet" in empty.text
    today = dt.date.today()
    added = client.post(f"{url}/milestones", data={"name": "Client's review", "stage": "design",
                                                   "start_date": (today - dt.timedelta(days=20)).isoformat(),
                                                   "due_date": (today - dt.timedelta(days=3)).isoformat()})
    assert added.status_code == 200 and "Client&#39;s review" in added.text
    backwards = client.post(f"{url}/tasks", data={"title": "Oops", "start_date": today.isoformat(),
                                                  "due_date": (today - dt.timedelta(days=1)).isoformat()})
    assert "is before start_date" in backwards.text
    ok = client.post(f"{url}/tasks", data={"title": "Label data", "start_date": today.isoformat(),
                                           "due_date": (today + dt.timedelta(days=5)).isoformat()})
    assert "Label data" in ok.text and "Oops" not in ok.text
    spec = json.loads(unescape(re.search(r"data-chart='([^']*)'", ok.text).group(1)))
    assert spec["options"]["indexAxis"] == "y"
    bars = spec["data"]["datasets"][1]
    assert bars["data"] == [[-20, -2], [0, 6]]
    assert bars["backgroundColor"][0] == "#dc2626"  # the late milestone is red
    milestone_id = client.get(f"/api/v1/projects/{project['id']}/milestones").json()[0]["id"]
    done = client.post(f"{url}/milestones/{milestone_id}/done")
    assert "Done late" in done.text
    client.cookies.set("mlpilot_lang", "ko")
    assert client.get(url).status_code == 200
