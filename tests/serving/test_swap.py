"""A backend swap under continuous load over real HTTP: promote, rollback, canary and shadow, zero failures."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from mlpilot.core.runtime import Runtime
from tests.conftest import ADMIN_TOKEN
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import churn_inputs, deploy, make_model_version

RECORD = {"tenure": 3, "charges": 70.0, "plan": "basic", "paperless": True}


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("swap-models")
    return {"v1": make_churn_model(root / "v1", rounds=5), "v2": make_churn_model(root / "v2", rounds=12)}


def test_swaps_under_load_fail_no_request(client: TestClient, runtime: Runtime, live_server_url: str,
                                         model_dirs: dict[str, Path]) -> None:
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
    v2 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v2"])
    deploy(client, project_id=project["id"], name="churn", model_version_id=v1)
    backend = client.post("/api/v1/services/churn/backends", json={"model_version_id": v2}).json()

    stop = threading.Event()
    results: list[tuple[int, str]] = []
    failures: list[str] = []

    def hammer() -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=live_server_url, headers=headers, timeout=30) as http:
            turn = 0
            while not stop.is_set() or len(results) < 200:
                turn += 1
                try:
                    if turn % 2:
                        response = http.post("/v2/models/churn/infer", json={"inputs": churn_inputs(3)})
                    else:
                        response = http.post("/api/v1/services/churn/predict", json={"records": [RECORD] * 3})
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                version = response.json().get("model_version", "") if response.status_code == 200 else ""
                results.append((response.status_code, version))
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        changes = [
            ("put", "/traffic", {"policy": "canary", "backend_id": backend["id"], "weight": 0.3}),
            ("post", "/promote", {"reason": "load test"}),
            ("post", "/rollback", {"reason": "load test"}),
            ("put", "/traffic", {"policy": "shadow", "backend_id": backend["id"]}),
            ("post", "/promote", {}),
            ("post", "/rollback", {}),
        ]
        for _ in range(3):
            for method, path, body in changes:
                response = getattr(client, method)(f"/api/v1/services/churn{path}", json=body)
                assert response.status_code == 200, response.text
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert failures == []
    assert len(results) >= 200 and all(status == 200 for status, _ in results)
    # Both backends answered during the run, and the audit saw every change.
    assert {version for _, version in results} == {"1", "2"}
    assert len(client.get("/api/v1/services/churn/audit").json()) == 2 + 3 * len(changes)
