"""Archiving a project: confirmed with a reason, audited, blocks training, and restored again; access."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.datasets.factories import churn_sample_tsv, create_project, upload_ok
from tests.projects.factories import login


def test_archive_needs_a_reason_blocks_training_and_restores(client: TestClient) -> None:
    pid = create_project(client)
    version = upload_ok(client, pid, name="churn", filename="churn.tsv", data=churn_sample_tsv(60))["version"]
    login(client)
    page = client.get(f"/projects/{pid}/archive")
    assert page.status_code == 200 and "Archive the project…" in page.text and "Never archived." in page.text

    for reason in ("", "x", "y" * 501):
        refused = client.post(f"/projects/{pid}/archive", data={"reason": reason})
        assert refused.status_code == 422 and "Give a reason of 3 to 500 characters" in refused.text
    assert client.get(f"/api/v1/projects/{pid}").json()["archived_at"] is None

    done = client.post(f"/projects/{pid}/archive", data={"reason": "pilot ended"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/projects/{pid}/archive"
    assert client.get(f"/api/v1/projects/{pid}").json()["archived_at"] is not None
    page = client.get(f"/projects/{pid}/archive")
    assert "Restore the project" in page.text and "pilot ended" in page.text
    again = client.post(f"/projects/{pid}/archive", data={"reason": "twice"})
    assert again.status_code == 422 and "already archived" in again.text

    train = client.post(f"/api/v1/projects/{pid}/runs", json={
        "time_budget_s": 2, "dataset_version_id": version["id"], "target": "target", "task": "binary"})
    assert train.status_code == 409 and "is archived" in train.json()["detail"]

    restored = client.post(f"/projects/{pid}/restore", data={"reason": "phase 2"}, follow_redirects=False)
    assert restored.status_code == 303
    assert client.get(f"/api/v1/projects/{pid}").json()["archived_at"] is None
    assert client.post(f"/projects/{pid}/restore", data={}).status_code == 422
    history = client.get(f"/projects/{pid}/archive").text
    assert history.index("phase 2") < history.index("pilot ended")

    # The API does the same and also asks for a reason.
    assert client.post(f"/api/v1/projects/{pid}/archive", json={"reason": ""}).status_code == 422
    assert client.post(f"/api/v1/projects/{pid}/archive", json={"reason": "api"}).status_code == 200
    assert client.post(f"/api/v1/projects/{pid}/restore").status_code == 200

    client.post("/api/v1/users", json={"username": "vic", "password": "password-123", "role": "viewer"})
    client.post(f"/api/v1/projects/{pid}/members", json={"username": "vic"})
    client.post("/api/v1/users", json={"username": "otto", "password": "password-123", "role": "member"})
    for username in ("vic", "otto"):
        other = TestClient(client.app)
        login(other, username=username, password="password-123")
        for path in ("archive", "restore"):
            response = other.post(f"/projects/{pid}/{path}", data={"reason": "not mine"}, follow_redirects=False)
            assert response.status_code in (403, 404), (username, path, response.status_code)
    assert client.get(f"/api/v1/projects/{pid}").json()["archived_at"] is None
