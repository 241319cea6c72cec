"""Backends and traffic policies over the real app: canary, shadow, promote, rollback, contracts, audit."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.runtime import Runtime
from mlpilot.monitoring import service as monitoring_service
from tests.dataplane.factories import make_churn_model, make_regression_model
from tests.projects.factories import api_project
from tests.serving.factories import (
    ExternalEngine,
    churn_inputs,
    deploy,
    external_config,
    make_model_version,
)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("traffic-models")
    return {"v1": make_churn_model(root / "v1", rounds=5), "v2": make_churn_model(root / "v2", rounds=12),
            "reg": make_regression_model(root / "reg")}


@pytest.fixture
def churn(client: TestClient, runtime: Runtime, model_dirs: dict[str, Path]) -> dict:
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
    v2 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v2"])
    deploy(client, project_id=project["id"], name="churn", model_version_id=v1, reason="first")
    return {"project": project, "v1": v1, "v2": v2}


def infer_version(client: TestClient, name: str = "churn") -> str:
    response = client.post(f"/v2/models/{name}/infer", json={"inputs": churn_inputs(2)})
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


def attach(client: TestClient, body: dict, name: str = "churn") -> dict:
    response = client.post(f"/api/v1/services/{name}/backends", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_canary_shadow_promote_rollback_are_routed_and_audited(client: TestClient, runtime: Runtime,
                                                                 churn: dict) -> None:
    v2 = attach(client, {"model_version_id": churn["v2"], "reason": "retrained on May data"})
    assert v2["role"] == "idle" and v2["label"] == "model:churn v2"
    backends = client.get("/api/v1/services/churn/backends").json()
    assert [(b["label"], b["role"]) for b in backends] == [("model:churn v1", "primary"), ("model:churn v2", "idle")]

    response = client.put("/api/v1/services/churn/traffic",
                          json={"policy": "canary", "backend_id": v2["id"], "weight": 0.5, "reason": "try v2"})
    assert response.status_code == 200, response.text
    assert response.json()["policy"] == "canary" and response.json()["canary_weight"] == 0.5
    seen = collections.Counter(infer_version(client) for _ in range(60))
    assert set(seen) == {"1", "2"}
    # The plain JSON endpoint goes through the same routing.
    json_seen = {client.post("/api/v1/services/churn/predict",
                             json={"records": [{"tenure": 3, "charges": 70.0, "plan": "basic", "paperless": True}]}
                             ).json()["model_version"] for _ in range(40)}
    assert json_seen == {"1", "2"}
    # Prometheus tells the canary's traffic apart from the primary's.
    scraped = client.get("/metrics").text
    assert 'backend="model:churn v2",model_version="2",role="canary",service="churn",status="200"' in scraped
    assert 'backend="model:churn v1",model_version="1",role="primary",service="churn",status="200"' in scraped
    # An explicit version reaches that backend; metadata describes the primary and lists both versions.
    assert client.post("/v2/models/churn/versions/2/infer", json={"inputs": churn_inputs(1)}).status_code == 200
    assert client.get("/v2/models/churn").json()["versions"] == ["1", "2"]
    assert client.get("/v2/models/churn/versions/2/ready").json() == {"name": "churn", "ready": True}

    response = client.put("/api/v1/services/churn/traffic",
                          json={"policy": "shadow", "backend_id": v2["id"], "reason": "compare quietly"})
    assert response.status_code == 200, response.text
    assert {infer_version(client) for _ in range(20)} == {"1"}
    assert runtime.dataplane.shadow_mirror.wait()
    shadow = client.get("/api/v1/services/churn/live").json()["shadow"]
    assert shadow["requests"] == 20 and shadow["rows"] == 40 and shadow["errors"] == 0
    assert 0.0 <= shadow["agreement_rate"] <= 1.0 and shadow["mean_abs_diff"] >= 0.0
    assert shadow["primary"] == "model:churn v1" and shadow["candidate"] == "model:churn v2"

    monitoring_service.flush_inference_sink(runtime)
    promoted = client.post("/api/v1/services/churn/promote", json={"reason": "v2 agrees"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["model_version"]["version"] == 2 and promoted.json()["policy"] == "single"
    assert {infer_version(client) for _ in range(10)} == {"2"}

    rolled = client.post("/api/v1/services/churn/rollback", json={"reason": "complaints"})
    assert rolled.status_code == 200, rolled.text
    assert {infer_version(client) for _ in range(10)} == {"1"}
    assert rolled.json()["primary"] == "churn v1"

    audit = client.get("/api/v1/services/churn/audit").json()
    assert [a["action"] for a in audit] == ["rollback", "promote", "shadow", "canary", "attach", "deploy"]
    assert all(a["user"] == "admin" for a in audit)
    assert audit[0]["reason"] == "complaints"
    assert audit[0]["before"]["primary"] == "model:churn v2" and audit[0]["after"]["primary"] == "model:churn v1"
    assert audit[3]["after"] == {"state": "deployed", "policy": "canary", "primary": "model:churn v1",
                                 "candidate": "model:churn v2", "weight": 0.5, "previous": None}
    # A second rollback undoes the first (one step back and forth).
    assert client.post("/api/v1/services/churn/rollback").json()["primary"] == "churn v2"


def test_telemetry_carries_the_backend_and_role(client: TestClient, runtime: Runtime, churn: dict) -> None:
    v2 = attach(client, {"model_version_id": churn["v2"]})
    client.put("/api/v1/services/churn/traffic", json={"policy": "shadow", "backend_id": v2["id"]})
    buffer_events: list = []
    original = runtime.dataplane.sink

    class Capture:
        def put(self, event: object) -> None:
            buffer_events.append(event)

    runtime.dataplane.sink = Capture()
    try:
        infer_version(client)
        assert runtime.dataplane.shadow_mirror.wait()
    finally:
        runtime.dataplane.sink = original
    roles = sorted((e.role, e.backend) for e in buffer_events)
    assert roles == [("primary", "model:churn v1"), ("shadow", "model:churn v2")]


def test_a_backend_that_breaks_the_contract_is_refused(client: TestClient, runtime: Runtime, churn: dict,
                                                       model_dirs: dict[str, Path]) -> None:
    reg = make_model_version(runtime, project_id=churn["project"]["id"], model_dir=model_dirs["reg"], name="reg")
    response = client.post("/api/v1/services/churn/backends", json={"model_version_id": reg})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "cannot back service 'churn' without changing its clients" in detail
    assert "regression model and the contract is binary" in detail and "needs input 'x'" in detail
    # Switching the primary to it directly is refused the same way.
    response = client.post(f"/api/v1/projects/{churn['project']['id']}/services",
                           json={"name": "churn", "model_version_id": reg})
    assert response.status_code == 422 and "without changing its clients" in response.json()["detail"]
    assert infer_version(client) == "1"

    bad = [({"policy": "canary", "weight": 0.5}, "needs the candidate backend's id"),
           ({"policy": "canary", "backend_id": 999, "weight": 0.5}, "has no backend 999"),
           ({"policy": "shadow", "backend_id": client.get("/api/v1/services/churn/backends").json()[0]["id"]},
            "already the primary")]
    for body, message in bad:
        response = client.put("/api/v1/services/churn/traffic", json=body)
        assert response.status_code in (404, 422) and message in response.json()["detail"], response.text
    v2 = attach(client, {"model_version_id": churn["v2"]})
    response = client.put("/api/v1/services/churn/traffic",
                          json={"policy": "canary", "backend_id": v2["id"], "weight": 1.5})
    assert response.status_code == 422 and "between 0 and 1" in response.json()["detail"]
    assert client.post("/api/v1/services/churn/promote").status_code == 422
    response = client.post("/api/v1/services/churn/backends", json={"model_version_id": churn["v2"]})
    assert response.status_code == 409 and "already a backend" in response.json()["detail"]
    response = client.post("/api/v1/services/churn/backends",
                           json={"external": {"name": "x", "url": "ftp://nope", "request": {"a": "$records"}}})
    assert response.status_code == 422 and "http:// or https://" in response.json()["detail"]
    response = client.post("/api/v1/services/churn/backends",
                           json={"external": {"name": "x", "url": "http://127.0.0.1:9", "request": {"a": 1}}})
    assert response.status_code == 422 and "$records" in response.json()["detail"]


def test_an_external_engine_can_take_over_without_clients_changing(client: TestClient, churn: dict) -> None:
    with ExternalEngine() as engine:
        ext = attach(client, {"external": external_config(engine), "reason": "vendor engine"})
        assert ext["label"] == "external:vendor-api" and ext["kind"] == "external"
        response = client.post("/api/v1/services/churn/promote", json={"backend_id": ext["id"], "reason": "swap"})
        assert response.status_code == 200, response.text
        assert response.json()["model_version"] is None and response.json()["primary"] == "external:vendor-api"
        body = client.post("/v2/models/churn/infer", json={"inputs": churn_inputs(2)}).json()
        assert body["model_version"] == "vendor-api"
        outputs = {o["name"]: o for o in body["outputs"]}
        assert outputs["probabilities"]["data"] == [0.25, 0.75, 0.9, 0.1]
        assert outputs["label"]["data"] == ["yes", "no"]
        records = client.post("/api/v1/services/churn/predict",
                              json={"records": [{"tenure": 3, "charges": None, "plan": "pro", "paperless": None}]})
        assert records.status_code == 200, records.text
        assert records.json()["predictions"] == [{"label": "yes", "probabilities": {"no": 0.25, "yes": 0.75}}]
        assert engine.calls == 2
        assert client.post("/api/v1/services/churn/rollback").status_code == 200
    assert infer_version(client) == "1"


def test_only_writers_change_backends_and_traffic(client: TestClient, churn: dict) -> None:
    from tests.serving.factories import role_headers

    viewer = role_headers(client, churn["project"]["id"], "viewer")
    backend = attach(client, {"model_version_id": churn["v2"]})
    assert client.get("/api/v1/services/churn/backends", headers=viewer).status_code == 200
    assert client.get("/api/v1/services/churn/audit", headers=viewer).status_code == 200
    refused = [
        client.post("/api/v1/services/churn/backends", json={"model_version_id": churn["v1"]}, headers=viewer),
        client.put("/api/v1/services/churn/traffic", json={"policy": "canary", "backend_id": backend["id"],
                                                           "weight": 0.5}, headers=viewer),
        client.post("/api/v1/services/churn/promote", json={"backend_id": backend["id"]}, headers=viewer),
        client.post("/api/v1/services/churn/rollback", headers=viewer),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert [a["action"] for a in client.get("/api/v1/services/churn/audit").json()] == ["attach", "deploy"]


def test_external_backend_api_keys_are_sealed_and_never_shown(client: TestClient, runtime: Runtime,
                                                              churn: dict) -> None:
    with ExternalEngine() as engine:
        config = {**external_config(engine, name="keyed"), "headers": {"X-Api-Key": "vendor-secret-key"}}
        ext = attach(client, {"external": config, "reason": "keyed vendor"})
        assert ext["config"]["headers"] == {"X-Api-Key": "***"}
        listed = client.get("/api/v1/services/churn/backends").text
        assert "vendor-secret-key" not in listed
        with runtime.engine.connect() as conn:
            stored = " ".join(str(row[0]) for row in conn.exec_driver_sql("SELECT config FROM service_backends"))
        assert "vendor-secret-key" not in stored and "X-Api-Key" in stored, stored
        assert client.post("/api/v1/services/churn/promote", json={"backend_id": ext["id"]}).status_code == 200
        assert client.post("/v2/models/churn/infer", json={"inputs": churn_inputs(2)}).status_code == 200
        assert engine.api_keys == ["vendor-secret-key"]  # the data plane still sends it
