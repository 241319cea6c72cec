"""The data plane's own HTTP server against hostile clients, over real sockets: slow senders, idle connections,
oversize URLs and headers, and bodies sent with a token that is refused before a byte of them is read."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator

import pytest

from mlpilot.dataplane.auth import TokenGate
from mlpilot.dataplane.server import DataPlane
from mlpilot.dataplane.telemetry import EventBuffer
from mlpilot.settings import ServingSettings
from tests.dataplane.factories import fast_server, make_churn_model

TOKEN = "data-plane-hardening-token"


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    settings = ServingSettings(max_body_bytes=64 * 1024, header_timeout_s=0.5, body_timeout_s=0.5,
                               keepalive_timeout_s=0.5, max_url_bytes=1024, max_header_bytes=4096, max_headers=20)
    plane = DataPlane(settings, sink=EventBuffer(1000))
    plane.load("churn", make_churn_model(tmp_path_factory.mktemp("hardening") / "churn"), "1")
    plane.gate = TokenGate()
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    plane.gate.replace({digest: None, hashlib.sha256(b"other-project-token").hexdigest(): None},
                       {digest: None, hashlib.sha256(b"other-project-token").hexdigest(): frozenset({"elsewhere"})})
    with fast_server(plane) as host:
        name, port = host.split(":")
        yield name, int(port)


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=5)
    return sock


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_slow_sender_is_cut_off_with_408(address: tuple[str, int]) -> None:
    sock = connect(address)
    sock.sendall(b"POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\n")  # ...and never finishes the headers
    started = time.monotonic()
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 4


def test_a_body_that_never_arrives_is_cut_off(address: tuple[str, int]) -> None:
    sock = connect(address)
    sock.sendall(b"POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                 + b"\r\nContent-Length: 500\r\n\r\n{\"inputs\"")
    assert read_all(sock).startswith(b"HTTP/1.1 408")


def test_an_idle_keep_alive_connection_is_closed(address: tuple[str, int]) -> None:
    sock = connect(address)
    sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = read_all(sock)  # the answer, then the close once the keep-alive timeout passes
    assert answer.startswith(b"HTTP/1.1 200") and b'"live":true' in answer


def test_oversize_urls_and_headers_are_refused(address: tuple[str, int]) -> None:
    sock = connect(address)
    sock.sendall(b"GET /v2/models/" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_all(sock).startswith(b"HTTP/1.1 414")
    sock = connect(address)
    sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 8000 + b"\r\n\r\n")
    assert read_all(sock).startswith(b"HTTP/1.1 431")
    sock = connect(address)
    sock.sendall(b"GET /v2/health/live HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(40)) + b"\r\n")
    assert read_all(sock).startswith(b"HTTP/1.1 431")


@pytest.mark.parametrize(("token", "status"), [("wrong-token", b"401"), ("other-project-token", b"404")])
def test_a_refused_token_is_answered_before_the_body_is_sent(address: tuple[str, int], token: str,
                                                             status: bytes) -> None:
    """The client announces a huge body but sends none of it: the refusal comes right after the headers."""
    sock = connect(address)
    sock.sendall(b"POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\n\r\n")
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]


def test_the_right_token_still_gets_answers(address: tuple[str, int]) -> None:
    import httpx

    from tests.serving.factories import churn_inputs

    url = f"http://{address[0]}:{address[1]}"
    answer = httpx.post(f"{url}/v2/models/churn/infer", json={"inputs": churn_inputs(2)},
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
