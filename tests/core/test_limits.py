"""Bounded input: request bodies, uploads and decompression stop at their caps with a clear 413."""

from __future__ import annotations

import gzip
import io

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.errors import PayloadTooLarge
from mlpilot.core.limits import gunzip_capped, read_capped


def bomb(expanded: int) -> bytes:
    """A gzip of zeros: a few kB that expand to `expanded` bytes."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as handle:
        block = b"\0" * (1 << 20)
        for _ in range(expanded // len(block)):
            handle.write(block)
    return out.getvalue()


def test_a_gzip_bomb_is_refused_by_ratio_before_it_expands() -> None:
    data = bomb(200 << 20)
    assert len(data) < 400_000
    with pytest.raises(PayloadTooLarge, match="compression bomb"):
        gunzip_capped(data, limit=1 << 40, ratio=200, what="bomb.csv.gz")
    with pytest.raises(PayloadTooLarge, match="expands past"):
        gunzip_capped(data, limit=8 << 20, ratio=10**9, what="bomb.csv.gz")
    normal = gzip.compress(b"a,b\n" + b"".join(f"{i},{i * 7}\n".encode() for i in range(50_000)))
    assert gunzip_capped(normal, limit=1 << 30, ratio=200, what="ok.csv.gz").startswith(b"a,b\n0,0\n")


def test_read_capped_stops_at_the_limit() -> None:
    assert read_capped(io.BytesIO(b"x" * 100), limit=100, what="f") == b"x" * 100
    with pytest.raises(PayloadTooLarge, match="larger than"):
        read_capped(io.BytesIO(b"x" * 101), limit=100, what="f")


def test_uploads_and_bodies_over_their_caps_answer_413(client: TestClient) -> None:
    pid = client.post("/api/v1/projects", json={"name": "limits"}).json()["id"]
    upload = client.post(f"/api/v1/projects/{pid}/datasets", data={"name": "bomb"},
                         files={"file": ("bomb.csv.gz", bomb(300 << 20), "application/gzip")})
    assert upload.status_code == 413 and "compression bomb" in upload.json()["detail"], upload.text
    assert client.get(f"/api/v1/projects/{pid}/datasets").json() == []  # nothing half-made is listed
    huge = client.post("/api/v1/projects", content=b'{"name": "' + b"x" * (17 << 20) + b'"}',
                       headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "larger than" in huge.json()["detail"]

    def chunks():  # no Content-Length: the cap is enforced while the body streams in
        for _ in range(20):
            yield b"x" * (1 << 20)

    streamed = client.post("/api/v1/projects", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_xlsx_is_parsed_through_defusedxml() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML, "openpyxl must find defusedxml so entity bombs and XXE are refused"
