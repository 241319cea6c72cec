"""The schedule API over the real app: bad input answers 4xx naming the tasks, other projects see nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.projects.factories import api_project


def _task(client: TestClient, base: str, title: str, start: str, due: str) -> int:
    made = client.post(f"{base}/tasks", json={"title": title, "start_date": start, "due_date": due})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_dependencies_critical_path_baseline_and_forecast(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    window = client.put(f"{base}/plan-window", json={"start_date": "2026-03-01", "end_date": "2026-05-31"})
    assert window.status_code == 200, window.text
    outside = client.post(f"{base}/tasks", json={"title": "Too late", "start_date": "2026-05-20",
                                                  "due_date": "2026-06-10"})
    assert outside.status_code == 422 and "'Too late'" in outside.json()["detail"]
    a = _task(client, base, "Collect", "2026-03-02", "2026-03-13")
    b = _task(client, base, "Train", "2026-03-16", "2026-03-27")
    c = _task(client, base, "Report", "2026-03-02", "2026-03-04")
    linked = client.post(f"{base}/dependencies", json={"predecessor_id": a, "successor_id": b, "lag_days": 2})
    assert linked.status_code == 201, linked.text
    cycle = client.post(f"{base}/dependencies", json={"predecessor_id": b, "successor_id": a})
    assert cycle.status_code == 422
    assert "cycle" in cycle.json()["detail"] and "'Collect'" in cycle.json()["detail"]
    backwards = client.patch(f"{base}/tasks/{c}", json={"due_date": "2026-03-01"})
    assert backwards.status_code == 422 and "'Report'" in backwards.json()["detail"]
    huge_lag = client.post(f"{base}/dependencies", json={"predecessor_id": c, "successor_id": b, "lag_days": 10**6})
    assert huge_lag.status_code == 422
    path = client.get(f"{base}/critical-path").json()
    assert [t["title"] for t in path["critical_path"]] == ["Collect", "Train"]
    assert path["finish"] == "2026-03-27" and {t["id"]: t["critical"] for t in path["tasks"]}[c] is False
    assert client.post(f"{base}/baselines", json={"name": "Kick-off"}).status_code == 201
    client.patch(f"{base}/tasks/{b}", json={"due_date": "2026-04-03"})
    variance = client.get(f"{base}/baseline-variance").json()
    assert {t["task_id"]: t["finish_variance_days"] for t in variance["tasks"]}[b] == 7
    fc = client.get(f"{base}/forecast").json()
    assert fc["source"] == "prior" and fc["draws"] == 10_000 and fc["project"]["p85"] >= fc["project"]["p50"]
    mia = client.post("/api/v1/users", json={"username": "mia", "password": "password-123"}).json()
    assert client.post(f"/api/v1/projects/{project['id']}/members", json={"username": "mia"}).status_code == 201
    stranger = client.post("/api/v1/users", json={"username": "outsider", "password": "password-123"}).json()
    refused = client.put(f"{base}/tasks/{a}/assignments", json={"assignments": [{"user_id": stranger["id"]}]})
    assert refused.status_code == 422 and "not a member" in refused.json()["detail"]
    ok = client.put(f"{base}/tasks/{a}/assignments", json={"assignments": [{"user_id": mia["id"], "allocation": 60}]})
    assert ok.status_code == 200 and ok.json()[0]["allocation"] == 60
    assert client.get(f"{base}/workload").json()[0]["tasks"] == [a]
    dep_id = linked.json()["id"]
    other = api_project(client, name="Other pilot")
    assert client.delete(f"/api/v1/projects/{other['id']}/dependencies/{dep_id}").status_code == 404
    assert client.delete(f"{base}/dependencies/{dep_id}").status_code == 204
    assert client.delete(f"{base}/tasks/{c}").status_code == 204
    assert [t["title"] for t in client.get(f"{base}/tasks").json()] == ["Collect", "Train"]


def test_a_member_of_another_project_sees_nothing(client: TestClient) -> None:
    project = api_project(client)
    client.post("/api/v1/users", json={"username": "nosy", "password": "password-123", "role": "member"})
    signed = TestClient(client.app)
    assert signed.post("/login", data={"username": "nosy", "password": "password-123"},
                       follow_redirects=False).status_code == 303
    token = signed.post("/api/v1/tokens", json={"name": "t"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("critical-path", "forecast", "workload", "baselines", "dependencies", "baseline-variance"):
        answer = client.get(f"/api/v1/projects/{project['id']}/{path}", headers=headers)
        assert answer.status_code in (403, 404), (path, answer.status_code)
    made = client.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "x"}, headers=headers)
    assert made.status_code in (403, 404)
