"""Services over the real app: deploy, infer on /v2, switch versions, fail safely, stop, permissions."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.monitoring import service as monitoring_service
from mlpilot.serving import service as serving_service
from tests.dataplane.factories import fast_server, make_churn_model, make_regression_model
from tests.projects.factories import api_project
from tests.serving.factories import churn_inputs, deploy, make_model_version, role_headers


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("serving-models")
    broken = root / "broken"
    make_churn_model(broken)
    (broken / "model.txt").write_text("this is not a LightGBM model")
    return {"v1": make_churn_model(root / "v1", rounds=5), "v2": make_churn_model(root / "v2", rounds=12),
            "reg": make_regression_model(root / "reg"), "broken": broken}


@pytest.fixture
def project(client: TestClient) -> dict:
    return api_project(client)


def services_url(project: dict) -> str:
    return f"/api/v1/projects/{project['id']}/services"


def infer(client: TestClient, name: str, rows: int = 2) -> tuple[int, dict]:
    response = client.post(f"/v2/models/{name}/infer", json={"inputs": churn_inputs(rows)})
    return response.status_code, response.json()


def test_deploy_infer_and_metrics(client: TestClient, runtime: Runtime, project: dict,
                                  model_dirs: dict[str, Path]) -> None:
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
    detail = deploy(client, project_id=project["id"], name="churn-scoring", model_version_id=v1, reason="first")
    assert detail["state"] == "deployed" and detail["loaded"] is True
    assert detail["model_version"] == {"id": v1, "name": "churn", "version": 1}
    assert detail["endpoints"]["oip_infer"].endswith("/v2/models/churn-scoring/infer")
    assert [i["name"] for i in detail["inputs"]] == ["tenure", "charges", "plan", "paperless"]
    assert [(d["action"], d["reason"]) for d in detail["deployments"]] == [("deploy", "first")]

    status, body = infer(client, "churn-scoring", rows=3)
    assert status == 200 and body["model_version"] == "1"
    assert infer(client, "churn-scoring", rows=0)[0] == 400
    assert client.get("/v2/health/ready").status_code == 200

    monitoring_service.flush_inference_sink(runtime)
    metrics = client.get("/api/v1/services/churn-scoring/metrics?window=1h")
    assert metrics.status_code == 200, metrics.text
    totals = metrics.json()["totals"]
    assert (totals["requests"], totals["errors"], totals["rows"]) == (2, 1, 3)
    assert totals["latency_p95_ms"] > 0
    series = metrics.json()["series"]
    assert sum(b["requests"] for b in series) == 2 and metrics.json()["bucket_seconds"] == 60
    assert client.get("/api/v1/services/churn-scoring/metrics?window=2d").status_code == 422

    # The deployment moved the project into the deploy stage, and the status report sees the traffic.
    assert client.get(f"/api/v1/projects/{project['id']}").json()["stage"] == "deploy"
    with session_scope(runtime.sessions) as session:
        summary = monitoring_service.summarize_project_services(session, project_id=project["id"])
    assert summary == [monitoring_service.ServiceTraffic(
        name="churn-scoring", model_version="churn v1", state="deployed", requests=2, errors=1,
        latency_p50_ms=totals["latency_p50_ms"], latency_p95_ms=totals["latency_p95_ms"],
        latency_p99_ms=totals["latency_p99_ms"])]


def test_redeploy_switches_and_a_broken_model_leaves_the_old_one_serving(
        client: TestClient, runtime: Runtime, project: dict, model_dirs: dict[str, Path]) -> None:
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
    v2 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v2"])
    broken = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["broken"])
    deploy(client, project_id=project["id"], name="churn", model_version_id=v1)
    switched = deploy(client, project_id=project["id"], name="churn", model_version_id=v2, reason="better AUC")
    assert switched["model_version_id"] == v2
    assert [(d["action"], d["model_version_id"], d["previous_model_version_id"]) for d in switched["deployments"]] == [
        ("update", v2, v1), ("deploy", v1, None)]
    assert infer(client, "churn")[1]["model_version"] == "2"

    failed = client.post(services_url(project), json={"name": "churn", "model_version_id": broken})
    assert failed.status_code == 422
    assert "could not be loaded" in failed.json()["detail"]
    after = client.get("/api/v1/services/churn").json()
    assert after["model_version_id"] == v2 and len(after["deployments"]) == 2
    assert infer(client, "churn")[1]["model_version"] == "2"

    again = client.post(services_url(project), json={"name": "churn", "model_version_id": v2})
    assert again.status_code == 409 and "already serves churn v2" in again.json()["detail"]


def test_a_new_service_that_fails_to_load_leaves_nothing(client: TestClient, runtime: Runtime, project: dict,
                                                         model_dirs: dict[str, Path]) -> None:
    broken = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["broken"])
    failed = client.post(services_url(project), json={"name": "doomed", "model_version_id": broken})
    assert failed.status_code == 422
    assert client.get("/api/v1/services/doomed").status_code == 404
    assert client.get("/api/v1/services").json() == []
    assert client.post("/v2/models/doomed/infer", json={"inputs": churn_inputs()}).status_code == 404


def test_bad_deploy_requests(client: TestClient, runtime: Runtime, project: dict,
                             model_dirs: dict[str, Path]) -> None:
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
    other = api_project(client, name="Other project")
    bad_name = client.post(services_url(project), json={"name": "--- !", "model_version_id": v1})
    assert bad_name.status_code == 422 and "'--- !' is invalid" in bad_name.json()["detail"]
    foreign = client.post(services_url(other), json={"name": "x", "model_version_id": v1})
    assert foreign.status_code == 422 and f"belongs to project {project['id']}" in foreign.json()["detail"]
    missing = client.post(services_url(project), json={"name": "x", "model_version_id": 999})
    assert missing.status_code == 404 and "Model version 999" in missing.json()["detail"]
    deploy(client, project_id=project["id"], name="taken", model_version_id=v1)
    v_other = make_model_version(runtime, project_id=other["id"], model_dir=model_dirs["v1"])
    taken = client.post(services_url(other), json={"name": "taken", "model_version_id": v_other})
    assert taken.status_code == 409 and "taken by another project" in taken.json()["detail"]


def test_unknown_service_is_404(client: TestClient) -> None:
    for response in (client.get("/api/v1/services/nope"), client.post("/api/v1/services/nope/stop"),
                     client.get("/api/v1/services/nope/metrics"),
                     client.post("/api/v1/services/nope/predict", json={"records": []})):
        assert response.status_code == 404
        assert "Service 'nope' does not exist" in response.json()["detail"]
    oip = client.post("/v2/models/nope/infer", json={"inputs": []})
    assert oip.status_code == 404 and oip.json() == {"error": "model 'nope' not found"}


def _token(client: TestClient, project_id: int, role: str) -> dict[str, str]:
    return role_headers(client, project_id, role)


def test_viewer_reads_but_cannot_deploy_or_stop(client: TestClient, runtime: Runtime, project: dict,
                                                model_dirs: dict[str, Path]) -> None:
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
    viewer = _token(client, project["id"], "viewer")
    denied = client.post(services_url(project), json={"name": "svc", "model_version_id": v1}, headers=viewer)
    assert denied.status_code == 403
    deploy(client, project_id=project["id"], name="svc", model_version_id=v1)
    assert client.get("/api/v1/services/svc", headers=viewer).status_code == 200
    assert [s["name"] for s in client.get("/api/v1/services", headers=viewer).json()] == ["svc"]
    assert client.post("/api/v1/services/svc/stop", headers=viewer).status_code == 403
    records = {"records": [{"tenure": 3, "charges": None, "plan": "basic", "paperless": True}]}
    assert client.post("/api/v1/services/svc/predict", json=records, headers=viewer).status_code == 200


def test_json_predict_stop_and_reload(client: TestClient, runtime: Runtime, project: dict,
                                      model_dirs: dict[str, Path]) -> None:
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
    reg = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["reg"], name="amount")
    deploy(client, project_id=project["id"], name="churn", model_version_id=v1)
    deploy(client, project_id=project["id"], name="amount", model_version_id=reg)

    records = [{"tenure": 3, "charges": 80.5, "plan": "basic", "paperless": True},
               {"tenure": 50, "plan": "team"}]
    response = client.post("/api/v1/services/churn/predict", json={"records": records})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["service"] == "churn" and body["model_version"] == "1" and len(body["predictions"]) == 2
    assert set(body["predictions"][0]["probabilities"]) == {"no", "yes"}
    assert body["predictions"][0]["label"] in ("no", "yes")
    amount = client.post("/api/v1/services/amount/predict", json={"records": [{"x": 1.0, "k": 2}]}).json()
    assert isinstance(amount["predictions"][0]["prediction"], float)
    monitoring_service.flush_inference_sink(runtime)
    recorded = client.get("/api/v1/services/amount/metrics").json()["totals"]
    assert (recorded["requests"], recorded["rows"]) == (1, 1)

    bad = client.post("/api/v1/services/churn/predict", json={"records": [{"tenure": None, "plan": "basic"}]})
    assert bad.status_code == 400 and "Column 'tenure' row 0 is missing" in bad.json()["detail"]
    extra = client.post("/api/v1/services/churn/predict", json={"records": [{"tenure": 1, "plan": "x", "age": 3}]})
    assert extra.status_code == 400 and "Record 0 has unknown field(s): age" in extra.json()["detail"]
    assert client.post("/api/v1/services/churn/predict", json={"rows": []}).status_code == 400

    stopped = client.post("/api/v1/services/churn/stop", json={"reason": "retired"})
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert stopped.json()["deployments"][0]["action"] == "stop"
    assert infer(client, "churn")[0] == 404
    assert client.post("/api/v1/services/churn/predict", json={"records": records}).status_code == 503
    assert client.post("/api/v1/services/churn/stop").status_code == 409

    # A restart loads what is deployed; a service whose model is gone keeps the server unready.
    runtime.dataplane.unload("amount")
    with session_scope(runtime.sessions) as session:
        assert serving_service.load_deployed_services(session, runtime=runtime) == 1
    assert runtime.dataplane.get("amount") is not None and runtime.dataplane.get("churn") is None
    detail = client.get("/api/v1/services/amount").json()
    runtime.store.delete(_artifact_key(runtime, reg))
    runtime.dataplane.unload("amount")
    with session_scope(runtime.sessions) as session:
        assert serving_service.load_deployed_services(session, runtime=runtime) == 0
    assert detail["loaded"] is True
    assert client.get("/v2/health/ready").status_code == 503
    assert client.get("/v2/models/amount/ready").status_code == 503


def _artifact_key(runtime: Runtime, model_version_id: int) -> str:
    from mlpilot.registry import service as registry_service

    with session_scope(runtime.sessions) as session:
        return registry_service.get_model_version(session, model_version_id=model_version_id).artifact_key


def test_v2_answers_a_token_only_for_services_of_its_projects(client: TestClient, runtime: Runtime, project: dict,
                                                              model_dirs: dict[str, Path]) -> None:
    """A member of another project cannot infer with, or read the metadata of, this project's service: the answer
    is the one an unknown model gets. The fast server in front of the app checks the same way."""
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
    deploy(client, project_id=project["id"], name="scoped", model_version_id=v1)
    member = role_headers(client, project["id"], "member")
    other = api_project(client, name="elsewhere")
    outsider = role_headers(client, other["id"], "viewer")
    runtime.parts["token_sync"].sync_once()
    body = {"inputs": churn_inputs(1)}
    assert client.post("/v2/models/scoped/infer", json=body, headers=member).status_code == 200
    for method, path in (("POST", "/v2/models/scoped/infer"), ("GET", "/v2/models/scoped"),
                         ("GET", "/v2/models/scoped/ready")):
        refused = client.request(method, path, json=body, headers=outsider)
        unknown = client.request(method, path.replace("scoped", "no-such-model"), json=body, headers=outsider)
        assert refused.status_code == 404 and refused.json() == {"error": "model 'scoped' not found"}, refused.text
        assert unknown.status_code == 404
    plane = runtime.dataplane
    with fast_server(plane) as host:
        url = f"http://{host}"
        assert httpx.post(f"{url}/v2/models/scoped/infer", json=body, headers=member).status_code == 200
        fast = httpx.post(f"{url}/v2/models/scoped/infer", json=body, headers=outsider)
        assert fast.status_code == 404 and fast.json() == {"error": "model 'scoped' not found"}
