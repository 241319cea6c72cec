"""The OIP V2 data plane over a real standalone app with models trained in the test session."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.errors import InvalidInput
from mlpilot.dataplane.asgi import create_dataplane_app
from mlpilot.dataplane.server import DataPlane
from mlpilot.dataplane.telemetry import EventBuffer
from mlpilot.settings import ServingSettings
from tests.dataplane.factories import make_churn_model, make_numeric_multiclass_model, make_regression_model
from tests.serving.factories import churn_inputs


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {"churn": make_churn_model(root / "churn"), "multi": make_numeric_multiclass_model(root / "multi"),
            "reg": make_regression_model(root / "reg")}


@pytest.fixture
def buffer() -> EventBuffer:
    return EventBuffer(1000)


@pytest.fixture
def dataplane(model_dirs: dict[str, Path], buffer: EventBuffer) -> DataPlane:
    plane = DataPlane(ServingSettings(max_rows_per_request=50, max_body_bytes=4096), sink=buffer)
    plane.load("churn", model_dirs["churn"], "1")
    plane.load("multi", model_dirs["multi"], "2")
    plane.load("reg", model_dirs["reg"], "3")
    return plane


@pytest.fixture
def api(dataplane: DataPlane) -> Iterator[TestClient]:
    with TestClient(create_dataplane_app(dataplane)) as test_client:
        yield test_client


def infer(api: TestClient, name: str, inputs: list[dict], **extra: object) -> tuple[int, dict]:
    response = api.post(f"/v2/models/{name}/infer", json={"inputs": inputs, **extra})
    return response.status_code, response.json()


def test_server_metadata_health_and_readiness(api: TestClient, dataplane: DataPlane) -> None:
    meta = api.get("/v2").json()
    assert meta["name"] == "mlpilot" and meta["version"] and meta["extensions"] == []
    assert api.get("/v2/health/live").status_code == 200
    assert api.get("/v2/health/ready").status_code == 200
    dataplane.set_starting(True)
    starting = api.get("/v2/health/ready")
    assert starting.status_code == 503 and "starting" in starting.json()["error"]
    dataplane.set_starting(False)
    dataplane.mark_unavailable("broken", "the model folder is missing")
    not_ready = api.get("/v2/health/ready")
    assert not_ready.status_code == 503 and "broken" in not_ready.json()["error"]
    assert api.get("/v2/models/broken/ready").status_code == 503
    status, body = infer(api, "broken", churn_inputs())
    assert status == 503 and "not ready" in body["error"]
    assert api.get("/v2/models/churn/ready").json() == {"name": "churn", "ready": True}


def test_model_metadata_follows_the_signature(api: TestClient) -> None:
    meta = api.get("/v2/models/churn").json()
    assert meta["name"] == "churn" and meta["versions"] == ["1"] and meta["platform"] == "mlpilot-lightgbm"
    assert [(i["name"], i["datatype"]) for i in meta["inputs"]] == [
        ("tenure", "FP64"), ("charges", "FP64"), ("plan", "BYTES"), ("paperless", "BOOL")]
    assert {o["name"] for o in meta["outputs"]} == {"probabilities", "label"}
    assert api.get("/v2/models/reg/versions/3").json()["outputs"][0]["name"] == "prediction"
    assert api.get("/v2/models/reg/versions/9").status_code == 404


def test_unknown_model_is_404_with_oip_error(api: TestClient) -> None:
    for response in (api.get("/v2/models/nope"), api.get("/v2/models/nope/ready"),
                     api.post("/v2/models/nope/infer", json={"inputs": []})):
        assert response.status_code == 404
        assert response.json() == {"error": "model 'nope' not found"}


def test_one_tensor_per_column_with_nulls_and_categories(api: TestClient) -> None:
    inputs = churn_inputs(3)
    inputs[1]["data"] = [None, 80.0, 20.5]  # charges is nullable
    inputs[1]["shape"] = [3, 1]
    inputs[1]["data"] = [[None], [80.0], [20.5]]  # nested data is fine too
    status, body = infer(api, "churn", inputs, id="req-7")
    assert status == 200, body
    assert body["id"] == "req-7" and body["model_name"] == "churn" and body["model_version"] == "1"
    outputs = {o["name"]: o for o in body["outputs"]}
    probabilities = outputs["probabilities"]
    assert probabilities["shape"] == [3, 2] and probabilities["parameters"]["classes"] == ["no", "yes"]
    rows = [probabilities["data"][i:i + 2] for i in range(0, 6, 2)]
    assert all(math.isclose(sum(r), 1.0) for r in rows)
    assert outputs["label"]["shape"] == [3] and set(outputs["label"]["data"]) <= {"no", "yes"}


def test_category_column_given_numbers_and_int_datatypes(api: TestClient) -> None:
    inputs = churn_inputs(2)
    inputs[2] = {"name": "plan", "shape": [2], "datatype": "INT64", "data": [1, 2]}
    inputs[3] = {"name": "paperless", "shape": [2], "datatype": "INT32", "data": [0, 1]}
    status, body = infer(api, "churn", inputs)
    assert status == 200, body


def test_single_matrix_tensor_and_outputs_filter(api: TestClient) -> None:
    matrix = [[0.1, 0.2, 0.3, 0.4], [2.0, 1.0, 0.0, -1.0], [-2, -1, 0, 1]]
    status, body = infer(api, "multi", [{"name": "input-0", "shape": [3, 4], "datatype": "FP32", "data": matrix}])
    assert status == 200, body
    probabilities = body["outputs"][0]
    assert probabilities["shape"] == [3, 3]
    assert all(math.isclose(sum(probabilities["data"][i:i + 3]), 1.0) for i in range(0, 9, 3))
    flat = [v for row in matrix for v in row]
    status, body = infer(api, "multi", [{"name": "x", "shape": [3, 4], "datatype": "FP64", "data": flat}],
                         outputs=[{"name": "label"}])
    assert status == 200
    assert [o["name"] for o in body["outputs"]] == ["label"] and len(body["outputs"][0]["data"]) == 3


def test_regression_and_version_path(api: TestClient) -> None:
    inputs = [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1.0, -1.0]},
              {"name": "k", "shape": [2], "datatype": "INT64", "data": [2, None]}]
    response = api.post("/v2/models/reg/versions/3/infer", json={"inputs": inputs})
    assert response.status_code == 200, response.text
    output = response.json()["outputs"][0]
    assert output["name"] == "prediction" and output["shape"] == [2]
    assert all(isinstance(v, float) for v in output["data"])
    wrong = api.post("/v2/models/reg/versions/1/infer", json={"inputs": inputs})
    assert wrong.status_code == 404 and "version '1'" in wrong.json()["error"]


def _churn_with(index: int, **changes: object) -> list[dict]:
    inputs = churn_inputs(2)
    inputs[index] = {**inputs[index], **changes}
    return inputs


BAD_REQUESTS = [
    ("unknown input", [*churn_inputs(), {"name": "age", "shape": [2], "datatype": "FP64", "data": [1, 2]}],
     "Unknown input(s): age; expected: tenure, charges, plan, paperless"),
    ("missing input", churn_inputs()[:3], "Missing input(s): paperless"),
    ("duplicate input", [*churn_inputs(), churn_inputs()[0]], "more than once: tenure"),
    ("data length vs shape", _churn_with(0, shape=[3]), "shape [3] but 2 value(s)"),
    ("rows differ", _churn_with(0, shape=[3], data=[1.0, 2.0, 3.0]), "different numbers of rows"),
    ("3-d shape", _churn_with(0, shape=[2, 1, 1]), "expected [n] or [n, 1]"),
    ("bytes for numeric", _churn_with(0, datatype="BYTES", data=["1", "2"]),
     "numeric column (float64) but was sent as BYTES"),
    ("text in numeric", _churn_with(0, data=[1.0, "many"]), "row 1 holds 'many'; expected a number"),
    ("unknown datatype", _churn_with(0, datatype="FLOAT"), "datatype 'FLOAT'"),
    ("null in required", _churn_with(0, data=[None, 2.0]), "Input 'tenure' row 0 is missing"),
    ("null in required text", _churn_with(2, data=["pro", None]), "Input 'plan' row 1 is missing"),
    ("ragged", _churn_with(0, shape=[2, 1], data=[[1.0], [2.0, 3.0]]), "ragged"),
    ("matrix with text column", [{"name": "input-0", "shape": [2, 4], "datatype": "FP64", "data": [0] * 8}],
     "hold text"),
]


@pytest.mark.parametrize(("case", "inputs", "message"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_are_400_naming_the_problem(api: TestClient, case: str, inputs: list, message: str) -> None:
    status, body = infer(api, "churn", inputs)
    assert status == 400, body
    assert message in body["error"]


def test_matrix_with_wrong_width_and_unknown_output(api: TestClient) -> None:
    status, body = infer(api, "multi", [{"name": "input-0", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}])
    assert status == 400 and "takes 4 columns (f0, f1, f2, f3)" in body["error"]
    status, body = infer(api, "churn", churn_inputs(), outputs=[{"name": "scores"}])
    assert status == 400 and "Unknown output(s): scores; available: probabilities, label" in body["error"]


def test_nan_and_infinity_literals(api: TestClient) -> None:
    body = json.dumps({"inputs": _churn_with(0, data=[1.0, 2.0])}).replace("2.0]", "NaN]", 1)
    response = api.post("/v2/models/churn/infer", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("Input 'tenure' row 1 is missing (null or NaN)")
    body = json.dumps({"inputs": _churn_with(1, data=[1.0, 2.0])}).replace("[1.0, 2.0]", "[1.0, Infinity]")
    response = api.post("/v2/models/churn/infer", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "Input 'charges' row 1 is infinite" in response.json()["error"]


def test_malformed_json_too_many_rows_and_too_large_body(api: TestClient) -> None:
    response = api.post("/v2/models/churn/infer", content=b'{"inputs": [', headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]
    response = api.post("/v2/models/churn/infer", json=[1, 2])
    assert response.status_code == 400 and "'inputs'" in response.json()["error"]
    status, body = infer(api, "multi", [{"name": "m", "shape": [51, 4], "datatype": "FP64", "data": [0.0] * 204}])
    assert status == 400 and "51 rows; at most 50" in body["error"]
    huge = api.post("/v2/models/churn/infer", content=b"{" + b" " * 5000 + b"}",
                    headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "larger than 4096 bytes" in huge.json()["error"]


def test_every_request_emits_one_event(api: TestClient, buffer: EventBuffer) -> None:
    infer(api, "churn", churn_inputs(2))
    infer(api, "churn", churn_inputs(2)[:1])
    infer(api, "nope", churn_inputs(2))
    events = buffer.drain()
    assert [(e.service, e.model_version, e.status_code, e.rows) for e in events] == [
        ("churn", "1", 200, 2), ("churn", "1", 400, 0)]
    assert events[1].error and "Missing input(s)" in events[1].error
    assert all(e.latency_ms > 0 for e in events)


def test_full_buffer_drops_and_counts_without_blocking(api: TestClient, model_dirs: dict[str, Path]) -> None:
    small = EventBuffer(2)
    plane = DataPlane(ServingSettings(), sink=small)
    plane.load("churn", model_dirs["churn"], "1")
    with TestClient(create_dataplane_app(plane)) as client:
        for _ in range(5):
            assert client.post("/v2/models/churn/infer", json={"inputs": churn_inputs()}).status_code == 200
    assert len(small) == 2 and small.accepted == 2 and small.dropped == 3


def test_failed_load_keeps_the_previous_model(dataplane: DataPlane, tmp_path: Path, model_dirs: dict[str, Path],
                                              api: TestClient) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "mlpilot-model.json").write_text((model_dirs["churn"] / "mlpilot-model.json").read_text())
    (broken / "model.txt").write_text("not a booster")
    with pytest.raises(InvalidInput, match="could not be loaded"):
        dataplane.load("churn", broken, "2")
    with pytest.raises(InvalidInput, match="mlpilot-model.json is missing"):
        dataplane.load("churn", tmp_path, "3")
    assert dataplane.get("churn").version == "1"
    status, body = infer(api, "churn", churn_inputs())
    assert status == 200 and body["model_version"] == "1"
    dataplane.unload("churn")
    assert infer(api, "churn", churn_inputs())[0] == 404


def test_prometheus_metrics_count_requests_per_service(api: TestClient) -> None:
    matrix = {"name": "input-0", "shape": [2, 4], "datatype": "FP64", "data": [0.1, 0.2, 0.3, 0.4] * 2}
    assert infer(api, "multi", [matrix])[0] == 200
    assert infer(api, "multi", [{"name": "nope", "shape": [1], "datatype": "FP64", "data": [1.0]}])[0] == 400
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    labels = 'backend="",model_version="2",role="primary",service="multi"'
    assert f'mlpilot_inference_requests_total{{{labels},status="200"}} 1.0' in text
    assert f'mlpilot_inference_requests_total{{{labels},status="400"}} 1.0' in text
    assert 'mlpilot_inference_rows_total{backend="",model_version="2",role="primary",service="multi"} 2.0' in text
    assert f'mlpilot_inference_latency_seconds_count{{{labels}}} 2.0' in text
    assert "mlpilot_models_loaded 3.0" in text
