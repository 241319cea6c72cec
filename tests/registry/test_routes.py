"""Registry routes: model versions of a project, lookups and registering runs that cannot be registered."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.datasets.factories import create_project


def test_unknown_ids_are_404_with_a_message(client: TestClient) -> None:
    pid = create_project(client)
    assert client.get(f"/api/v1/projects/{pid}/model-versions").json() == []
    missing = client.get("/api/v1/model-versions/777")
    assert missing.status_code == 404 and "Model version 777 does not exist" in missing.json()["detail"]
    run = client.post("/api/v1/runs/555/register", json={"name": "x"})
    assert run.status_code == 404 and "Run 555 does not exist" in run.json()["detail"]
    assert client.get("/api/v1/projects/999/model-versions").status_code == 404
