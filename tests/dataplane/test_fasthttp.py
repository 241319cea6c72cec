"""`mlpilot serve`'s own HTTP server (fasthttp): the OIP surface, its error format, HTTP details, concurrency."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from mlpilot.dataplane.auth import TokenGate
from mlpilot.dataplane.server import DataPlane
from mlpilot.dataplane.telemetry import EventBuffer
from mlpilot.registry.flavors import load_model
from mlpilot.settings import ServingSettings
from tests.dataplane.factories import (
    fast_server,
    make_churn_model,
    make_numeric_multiclass_model,
    make_regression_model,
)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fast-models")
    return {"churn": make_churn_model(root / "churn"), "multi": make_numeric_multiclass_model(root / "multi"),
            "reg": make_regression_model(root / "reg")}


@pytest.fixture
def buffer() -> EventBuffer:
    return EventBuffer(10_000)


@pytest.fixture
def plane(model_dirs: dict[str, Path], buffer: EventBuffer) -> DataPlane:
    plane = DataPlane(ServingSettings(max_rows_per_request=500, max_body_bytes=64 * 1024), sink=buffer)
    plane.load("churn", model_dirs["churn"], "1")
    plane.load("multi", model_dirs["multi"], "2")
    plane.load("reg", model_dirs["reg"], "3")
    return plane


@pytest.fixture
def url(plane: DataPlane) -> Iterator[str]:
    with fast_server(plane) as address:
        yield f"http://{address}"


def matrix_body(rows: np.ndarray, **extra: object) -> dict:
    return {"inputs": [{"name": "input-0", "shape": list(rows.shape), "datatype": "FP64",
                        "data": rows.ravel().tolist()}], **extra}


def test_health_metadata_metrics_and_docs_are_served(url: str) -> None:
    assert httpx.get(f"{url}/v2/health/live").json() == {"live": True}
    assert httpx.get(f"{url}/v2/health/ready").json() == {"ready": True}
    assert httpx.get(f"{url}/v2").json()["name"] == "mlpilot"
    metadata = httpx.get(f"{url}/v2/models/multi").json()
    assert [i["name"] for i in metadata["inputs"]] == ["f0", "f1", "f2", "f3"]
    assert httpx.get(f"{url}/v2/models/multi/versions/2/ready").json() == {"name": "multi", "ready": True}
    httpx.post(f"{url}/v2/models/multi/infer", json=matrix_body(np.zeros((2, 4))))
    metrics = httpx.get(f"{url}/metrics").text
    assert 'mlpilot_inference_rows_total{backend="",model_version="2",role="primary",service="multi"} 2.0' in metrics
    assert httpx.get(f"{url}/openapi.json").status_code == 200


def test_answers_match_the_model_and_request_id_and_outputs_are_kept(url: str, model_dirs: dict[str, Path]) -> None:
    rows = np.random.default_rng(5).normal(size=(6, 4))
    response = httpx.post(f"{url}/v2/models/multi/versions/2/infer",
                          json=matrix_body(rows, id="req-7", outputs=[{"name": "probabilities"}]))
    assert response.status_code == 200
    answer = response.json()
    assert answer["id"] == "req-7" and answer["model_version"] == "2"
    assert [o["name"] for o in answer["outputs"]] == ["probabilities"]
    expected = load_model(model_dirs["multi"]).predict_matrix(rows).probabilities
    np.testing.assert_allclose(np.asarray(answer["outputs"][0]["data"]).reshape(6, 3), expected, rtol=1e-12)


@pytest.mark.parametrize(("path", "body", "status", "message"), [
    ("/v2/models/nope/infer", b'{"inputs": []}', 404, "model 'nope' not found"),
    ("/v2/models/multi/versions/9/infer", b"{}", 404, "version '9' not found"),
    ("/v2/models/multi/infer", b'{"inputs": [', 400, "not valid JSON"),
    ("/v2/models/multi/infer", b"", 400, "body is empty"),
    ("/v2/models/multi/infer", b'{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP64", '
                               b'"data": [1, 2, 3]}]}', 400, "takes 4 columns"),
    ("/v2/models/multi/infer", b'{"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", '
                               b'"data": [1, 2, NaN, 3]}]}', 400, "missing (null or NaN)"),
    ("/v2/models/multi/infer", b'{"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", '
                               b'"data": [1, 2, Infinity, 3]}]}', 400, "infinite"),
    ("/v2/nothing/here", b"{}", 404, "Nothing at /v2/nothing/here"),
])
def test_errors_use_the_oip_error_format(url: str, path: str, body: bytes, status: int, message: str) -> None:
    response = httpx.post(f"{url}{path}", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert message in response.json()["error"]


def test_oversize_bodies_are_413_and_the_connection_stays_usable(url: str, buffer: EventBuffer) -> None:
    huge = b'{"inputs": [' + b" " * (70 * 1024) + b"]}"
    with httpx.Client() as client:
        response = client.post(f"{url}/v2/models/multi/infer", content=huge)
        assert response.status_code == 413
        assert "larger than 65536 bytes" in response.json()["error"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
            yield from (huge[i:i + 8192] for i in range(0, len(huge), 8192))

        assert client.post(f"{url}/v2/models/multi/infer", content=chunks()).status_code == 413
        assert client.post(f"{url}/v2/models/multi/infer", json=matrix_body(np.zeros((1, 4)))).status_code == 200
    assert [(e.service, e.status_code) for e in buffer.drain()] == [("multi", 413), ("multi", 413), ("multi", 200)]


def test_telemetry_has_one_event_per_request(url: str, buffer: EventBuffer) -> None:
    httpx.post(f"{url}/v2/models/reg/infer", json={"inputs": [
        {"name": "x", "shape": [3], "datatype": "FP64", "data": [1.0, 2.0, 3.0]},
        {"name": "k", "shape": [3], "datatype": "INT64", "data": [1, 2, 3]}]})
    httpx.post(f"{url}/v2/models/reg/infer", json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP64",
                                                               "data": [1.0]}]})
    httpx.post(f"{url}/v2/models/unknown/infer", json={"inputs": []})
    events = [(e.service, e.model_version, e.status_code, e.rows) for e in buffer.drain()]
    assert events == [("reg", "3", 200, 3), ("reg", "3", 400, 0)]


def test_token_gate_refuses_without_a_valid_bearer_token(plane: DataPlane) -> None:
    plane.gate = TokenGate()
    plane.gate.replace({hashlib.sha256(b"s3cret").hexdigest(): None})
    with fast_server(plane) as address:
        body = matrix_body(np.zeros((1, 4)))
        refused = httpx.post(f"http://{address}/v2/models/multi/infer", json=body)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in refused.json()["error"]
        wrong = httpx.post(f"http://{address}/v2/models/multi/infer", json=body,
                           headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "unknown, revoked or expired" in wrong.json()["error"]
        assert httpx.get(f"http://{address}/v2/models/multi").status_code == 401
        assert httpx.get(f"http://{address}/v2/health/ready").status_code == 200  # probes stay open
        ok = httpx.post(f"http://{address}/v2/models/multi/infer", json=body,
                        headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def _read_responses(sock: socket.socket, count: int) -> list[bytes]:
    data = b""
    responses: list[bytes] = []
    while len(responses) < count:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection early"
        data += chunk
        while b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            if len(rest) < length:
                break
            responses.append(head + b"\r\n\r\n" + rest[:length])
            data = rest[length:]
    return responses


def test_pipelined_requests_are_answered_in_order(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    bodies = [b'{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP64","data":[%d,0,0,0]}],"id":"r%d"}'
              % (i, i) for i in range(5)]
    raw = b"".join(b"POST /v2/models/multi/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b)
                   for b in bodies)
    raw += b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        responses = _read_responses(sock, 6)
    for i, response in enumerate(responses[:5]):
        assert response.startswith(b"HTTP/1.1 200 OK") and b'"id":"r%d"' % i in response
    assert responses[5].endswith(b'{"live":true}')


def test_malformed_http_gets_400_and_expect_continue_is_honoured(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400") and b"Malformed HTTP request" in answer
    body = b'{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP64","data":[0,0,0,0]}]}'
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /v2/models/multi/infer HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        assert _read_responses(sock, 1)[0].startswith(b"HTTP/1.1 200 OK")


def test_concurrent_requests_each_get_their_own_rows_answers(url: str, model_dirs: dict[str, Path]) -> None:
    """Many clients at once (the micro-batcher joins their rows): every answer is for that client's rows."""
    model = load_model(model_dirs["multi"])
    rng = np.random.default_rng(11)
    requests = [rng.normal(size=(int(rng.integers(1, 5)), 4)) for _ in range(200)]

    def send(index: int) -> tuple[int, dict]:
        with httpx.Client() as client:
            response = client.post(f"{url}/v2/models/multi/infer", json=matrix_body(requests[index], id=str(index)))
        return index, response.json()

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(send, range(len(requests))))
    for index, answer in answers:
        assert answer["id"] == str(index)
        rows = requests[index]
        got = np.asarray(answer["outputs"][0]["data"]).reshape(rows.shape[0], 3)
        np.testing.assert_allclose(got, model.predict_matrix(rows).probabilities, rtol=1e-12)
        assert answer["outputs"][1]["shape"] == [rows.shape[0]]
