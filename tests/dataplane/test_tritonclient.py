"""The data plane speaks the real Open Inference Protocol: tritonclient.http against a live uvicorn server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as httpclient
import uvicorn

from mlpilot.dataplane.asgi import create_dataplane_app
from mlpilot.dataplane.server import DataPlane
from mlpilot.settings import ServingSettings
from tests.dataplane.factories import fast_server, make_churn_model, make_numeric_multiclass_model


@pytest.fixture(params=["uvicorn", "fast"])
def server_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same data plane behind uvicorn + FastAPI and behind `mlpilot serve`'s own HTTP server."""
    plane = DataPlane(ServingSettings())
    plane.load("multi", make_numeric_multiclass_model(tmp_path / "multi"), "1")
    plane.load("churn", make_churn_model(tmp_path / "churn"), "4")
    if request.param == "fast":
        with fast_server(plane) as url:
            yield url
        return
    # Port 0: the OS picks a free port, read back from the listening socket.
    server = uvicorn.Server(uvicorn.Config(create_dataplane_app(plane), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn exited"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_tritonclient_health_metadata_and_infer(server_url: str) -> None:
    client = httpclient.InferenceServerClient(url=server_url, network_timeout=10.0)
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("multi") and not client.is_model_ready("absent")
        metadata = client.get_model_metadata("multi")
        assert [i["name"] for i in metadata["inputs"]] == ["f0", "f1", "f2", "f3"]

        features = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
        tensor = httpclient.InferInput("input-0", list(features.shape), "FP32")
        tensor.set_data_from_numpy(features, binary_data=False)
        outputs = [httpclient.InferRequestedOutput("probabilities", binary_data=False),
                   httpclient.InferRequestedOutput("label", binary_data=False)]
        result = client.infer("multi", [tensor], outputs=outputs, request_id="r1")
        probabilities = result.as_numpy("probabilities")
        assert probabilities.shape == (5, 3)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
        labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("label")]
        assert set(labels) <= {"a", "b", "c"}
        assert result.get_response()["id"] == "r1"

        columns = {"tenure": np.array([3.0, 40.0]), "charges": np.array([70.0, 20.0]),
                   "plan": np.array(["basic", "team"], dtype=object), "paperless": np.array([True, False])}
        datatypes = {"tenure": "FP64", "charges": "FP64", "plan": "BYTES", "paperless": "BOOL"}
        tensors = []
        for name, values in columns.items():
            tensor = httpclient.InferInput(name, [2], datatypes[name])
            tensor.set_data_from_numpy(values, binary_data=False)
            tensors.append(tensor)
        result = client.infer("churn", tensors,
                              outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=False)])
        assert result.as_numpy("probabilities").shape == (2, 2)
        assert result.get_response()["model_version"] == "4"
    finally:
        client.close()


def test_tritonclient_defaults_use_the_binary_tensor_extension(server_url: str) -> None:
    """Triton's client sends and asks for binary tensors unless told otherwise; both directions must work."""
    client = httpclient.InferenceServerClient(url=server_url, network_timeout=10.0)
    try:
        features = np.random.default_rng(1).normal(size=(3, 4))
        tensor = httpclient.InferInput("input-0", list(features.shape), "FP64")
        tensor.set_data_from_numpy(features)
        result = client.infer("multi", [tensor])
        probabilities = result.as_numpy("probabilities")
        assert probabilities.shape == (3, 3)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
        labels = [v.decode() for v in result.as_numpy("label")]
        assert set(labels) <= {"a", "b", "c"}

        plan = httpclient.InferInput("plan", [2], "BYTES")
        plan.set_data_from_numpy(np.array([b"basic", b"team"], dtype=object))
        others = []
        for name, values, datatype in (("tenure", np.array([3.0, 40.0]), "FP64"),
                                       ("charges", np.array([70.0, 20.0]), "FP64"),
                                       ("paperless", np.array([True, False]), "BOOL")):
            tensor = httpclient.InferInput(name, [2], datatype)
            tensor.set_data_from_numpy(values)
            others.append(tensor)
        mixed = client.infer("churn", [plan, *others],
                             outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=True),
                                      httpclient.InferRequestedOutput("label", binary_data=False)])
        assert mixed.as_numpy("probabilities").shape == (2, 2)
        assert len(mixed.as_numpy("label")) == 2
    finally:
        client.close()


def test_binary_sizes_that_do_not_add_up_are_rejected(server_url: str) -> None:
    import httpx

    header = b'{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP64","parameters":{"binary_data_size":32}}]}'
    response = httpx.post(f"http://{server_url}/v2/models/multi/infer", content=header + b"\x00" * 8,
                          headers={"Inference-Header-Content-Length": str(len(header))})
    assert response.status_code == 400
    assert "binary_data_size" in response.json()["error"]
