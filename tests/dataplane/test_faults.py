"""Faults on the serving path, each with a clear answer: bad input (400/413/404), a backend that crashes or
hangs (503 for that backend while the others keep serving), and the control plane down while the data
plane keeps answering. Errors use the OIP error format {"error": "..."} on /v2.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from mlpilot.core.db import make_sessionmaker
from mlpilot.core.runtime import Runtime
from tests.conftest import make_settings
from tests.dataplane.factories import fast_server, make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import ExternalEngine, churn_inputs, deploy, external_config, make_model_version

RECORD = {"tenure": 3, "charges": 70.0, "plan": "basic", "paperless": True}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_churn_model(tmp_path_factory.mktemp("fault-models") / "v1")


@pytest.fixture
def churn(client: TestClient, runtime: Runtime, model_dir: Path) -> dict:
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn", model_version_id=v1)
    return {"project": project, "v1": v1}


Door = Callable[..., Any]


@pytest.fixture(params=["app", "fasthttp"])
def door(request: pytest.FixtureRequest, client: TestClient, runtime: Runtime) -> Iterator[Door]:
    """The two HTTP front doors of the same data plane: the app (what uvicorn serves) and `mlpilot serve`'s own
    server; every /v2 fault below is checked through both."""
    if request.param == "app":
        yield client.request
        return
    with fast_server(runtime.dataplane) as host, httpx.Client(
            base_url=f"http://{host}", headers={"Authorization": client.headers["Authorization"]}) as http:
        yield http.request


def oip(door: Door, inputs: object, name: str = "churn") -> tuple[int, dict]:
    response = door("POST", f"/v2/models/{name}/infer", json={"inputs": inputs})
    return response.status_code, response.json()


def with_column(column: str, **changes: object) -> list[dict]:
    return [dict(t, **changes) if t["name"] == column else t for t in churn_inputs(2)]


@pytest.mark.parametrize(("inputs", "status", "message"), [
    (with_column("tenure", name="tenur"), 400, "tenur"),
    (with_column("tenure", shape=[3]), 400, "shape"),
    (with_column("tenure", datatype="FP99"), 400, "FP99"),
    (with_column("tenure", datatype="BYTES", data=["a", "b"]), 400, "tenure"),
    (with_column("tenure", data=[None, 1.0]), 400, "tenure"),
    ([t for t in churn_inputs(2) if t["name"] != "plan"], 400, "plan"),
], ids=["wrong-name", "wrong-shape", "unknown-datatype", "wrong-datatype", "missing-value", "missing-input"])
def test_bad_tensors_get_a_400_naming_the_problem(door: Door, churn: dict, inputs: list, status: int,
                                                  message: str) -> None:
    code, body = oip(door, inputs)
    assert code == status and set(body) == {"error"} and message in body["error"], body


def test_malformed_json_nan_infinity_and_unknown_service(client: TestClient, door: Door, churn: dict) -> None:
    headers = {"content-type": "application/json"}
    response = door("POST", "/v2/models/churn/infer", content=b'{"inputs": [', headers=headers)
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]
    response = client.post("/api/v1/services/churn/predict", content=b"{nope", headers=headers)
    assert response.status_code == 400 and "not valid JSON" in response.text
    for token in (b"NaN", b"Infinity", b"-Infinity"):
        body = (b'{"inputs": [{"name": "tenure", "shape": [1], "datatype": "FP64", "data": [' + token + b']},'
                b'{"name": "charges", "shape": [1], "datatype": "FP64", "data": [1.0]},'
                b'{"name": "plan", "shape": [1], "datatype": "BYTES", "data": ["basic"]},'
                b'{"name": "paperless", "shape": [1], "datatype": "BOOL", "data": [true]}]}')
        response = door("POST", "/v2/models/churn/infer", content=body, headers=headers)
        assert response.status_code == 400, (token, response.text)
        assert "tenure" in response.json()["error"]
    response = client.post("/api/v1/services/churn/predict",
                           content=b'{"records": [{"tenure": NaN, "charges": 1, "plan": "basic"}]}', headers=headers)
    assert response.status_code == 400 and "tenure" in response.text
    code, body = oip(door, churn_inputs(1), name="nope")
    assert code == 404 and body == {"error": "model 'nope' not found"}
    response = client.post("/api/v1/services/nope/predict", json={"records": [RECORD]})
    assert response.status_code == 404 and "'nope'" in response.json()["detail"]
    assert door("GET", "/v2/models/nope").status_code == 404
    assert door("GET", "/v2/models/nope/ready").json() == {"error": "model 'nope' not found"}


def test_an_oversize_body_gets_413(tmp_path: Path, databases: object, dialect: str, model_dir: Path) -> None:
    from mlpilot.app import create_app
    from tests.conftest import ADMIN_TOKEN

    settings = make_settings(tmp_path, databases.new_url(dialect), serving={"max_body_bytes": 2048})
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        runtime = client.app.state.runtime
        project = api_project(client)
        v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
        deploy(client, project_id=project["id"], name="churn", model_version_id=v1)
        code, body = oip(client.request, churn_inputs(200))
        assert code == 413 and "larger than 2048 bytes" in body["error"]
        response = client.post("/api/v1/services/churn/predict", json={"records": [RECORD] * 200})
        assert response.status_code == 413 and "larger than 2048 bytes" in response.text
        assert oip(client.request, churn_inputs(2))[0] == 200
        with fast_server(runtime.dataplane) as host, httpx.Client(base_url=f"http://{host}",
                                                                 headers=dict(client.headers)) as http:
            code, body = oip(http.request, churn_inputs(200))
            assert code == 413 and "larger than 2048 bytes" in body["error"]
            assert oip(http.request, churn_inputs(2))[0] == 200


def test_a_crashing_backend_is_503_for_it_while_the_others_keep_serving(client: TestClient, runtime: Runtime,
                                                                         churn: dict) -> None:
    deploy(client, project_id=churn["project"]["id"], name="churn-b", model_version_id=churn["v1"])
    with ExternalEngine(mode="fail") as engine:
        ext = client.post("/api/v1/services/churn/backends", json={"external": external_config(engine)}).json()
        assert client.post("/api/v1/services/churn/promote", json={"backend_id": ext["id"]}).status_code == 200
        code, body = oip(client.request, churn_inputs(2))
        assert code == 503 and "external:vendor-api answered HTTP 500" in body["error"]
        response = client.post("/api/v1/services/churn/predict", json={"records": [RECORD]})
        assert response.status_code == 503 and "answered HTTP 500" in response.json()["detail"]
        assert oip(client.request, churn_inputs(2), name="churn-b")[0] == 200
        # Under a canary the requests routed to the failing engine fail alone; the primary's succeed.
        assert client.post("/api/v1/services/churn/rollback").status_code == 200
        client.put("/api/v1/services/churn/traffic", json={"policy": "canary", "backend_id": ext["id"], "weight": 0.5})
        codes = {oip(client.request, churn_inputs(1))[0] for _ in range(40)}
        assert codes == {200, 503}
        # As a shadow it never reaches clients: every answer is the primary's; the failures are counted.
        client.put("/api/v1/services/churn/traffic", json={"policy": "shadow", "backend_id": ext["id"]})
        assert {oip(client.request, churn_inputs(1))[0] for _ in range(10)} == {200}
        assert runtime.dataplane.shadow_mirror.wait()
        shadow = client.get("/api/v1/services/churn/live").json()["shadow"]
        assert shadow["errors"] == 10 and "HTTP 500" in shadow["last_error"]
    # The engine is gone entirely (connection refused): still a 503 that says so.
    client.post("/api/v1/services/churn/promote", json={"backend_id": ext["id"]})
    code, body = oip(client.request, churn_inputs(1))
    assert code == 503 and "unreachable" in body["error"]


def test_a_hanging_backend_times_out_while_the_others_keep_serving(client: TestClient, live_server_url: str,
                                                                    churn: dict) -> None:
    import httpx

    from tests.conftest import ADMIN_TOKEN

    deploy(client, project_id=churn["project"]["id"], name="churn-b", model_version_id=churn["v1"])
    with ExternalEngine(mode="hang") as engine:
        ext = client.post("/api/v1/services/churn/backends",
                          json={"external": external_config(engine, timeout_s=2.0)}).json()
        client.post("/api/v1/services/churn/promote", json={"backend_id": ext["id"]})
        answer: dict = {}
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

        def call_hanging() -> None:
            response = httpx.post(f"{live_server_url}/v2/models/churn/infer", json={"inputs": churn_inputs(1)},
                                  headers=headers, timeout=30)
            answer.update(status=response.status_code, body=response.json())

        thread = threading.Thread(target=call_hanging)
        thread.start()
        assert engine.received.wait(10)
        # While that request hangs on the engine, the same server answers other services over HTTP.
        with httpx.Client(base_url=live_server_url, headers=headers, timeout=30) as http:
            for _ in range(5):
                response = http.post("/v2/models/churn-b/infer", json={"inputs": churn_inputs(1)})
                assert response.status_code == 200, response.text
        assert thread.is_alive()
        thread.join(30)
        assert answer["status"] == 503 and "did not answer within 2 s" in answer["body"]["error"]


def test_the_data_plane_keeps_answering_while_the_control_plane_is_down(client: TestClient, runtime: Runtime,
                                                                         churn: dict, tmp_path: Path) -> None:
    sessions = runtime.sessions
    # The metadata database becomes unreachable: every session now points at a file that cannot be opened.
    dead = create_engine(f"sqlite:///{tmp_path}/missing-dir/none.db")
    runtime.sessions = make_sessionmaker(dead)
    # A client that sees the 500 the server sends instead of the test re-raising it (no second lifespan).
    plain = TestClient(client.app, raise_server_exceptions=False, headers=dict(client.headers))
    try:
        assert plain.get("/api/v1/services").status_code == 500
        for _ in range(5):
            code, body = oip(client.request, churn_inputs(2))
            assert code == 200 and body["model_version"] == "1"
        assert client.get("/v2/models/churn/ready").status_code == 200
        assert client.get("/v2/health/ready").status_code == 200
    finally:
        runtime.sessions = sessions
        dead.dispose()
    assert client.get("/api/v1/services").status_code == 200


def test_an_overlong_request_id_is_refused_not_kept(client: TestClient, churn: dict) -> None:
    """Ids are remembered per prediction for ground truth sent later; a megabyte id would pin memory."""
    long_id = client.post("/v2/models/churn/infer", json={"id": "x" * 1_000_000, "inputs": churn_inputs(1)})
    assert long_id.status_code == 400 and "at most 256" in long_id.json()["error"]
    fine = client.post("/v2/models/churn/infer", json={"id": "order-42", "inputs": churn_inputs(1)})
    assert fine.status_code == 200 and fine.json()["id"] == "order-42"
    plain = client.post("/api/v1/services/churn/predict", json={"request_id": "y" * 300,
                                                                 "records": [{"tenure": 3.0}]})
    assert plain.status_code in (400, 422) and "at most 256" in str(plain.json())
