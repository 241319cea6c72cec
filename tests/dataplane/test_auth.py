"""Tokens on the data plane: health is open, everything else needs a token the control plane synced."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from mlpilot.dataplane.auth import TokenGate


def test_health_is_open_but_models_and_inference_need_a_token(client: TestClient) -> None:
    anonymous = {"Authorization": ""}
    assert client.get("/v2/health/live", headers=anonymous).status_code == 200
    assert client.get("/v2/health/ready", headers=anonymous).status_code == 200
    for method, path in (("GET", "/v2"), ("GET", "/v2/models/churn"), ("GET", "/v2/models/churn/ready"),
                         ("POST", "/v2/models/churn/infer")):
        response = client.request(method, path, headers=anonymous, json={"inputs": []})
        assert response.status_code == 401, (path, response.text)
        assert "Bearer" in response.json()["error"]
        assert response.headers["www-authenticate"] == "Bearer"
    # With the admin's token the request passes the gate and meets the real answer (no such model).
    assert client.post("/v2/models/churn/infer", json={"inputs": []}).status_code == 404


def test_new_and_revoked_tokens_reach_the_data_plane_within_a_sync(client: TestClient) -> None:
    made = client.post("/api/v1/tokens", json={"name": "scoring"}).json()
    headers = {"Authorization": f"Bearer {made['token']}"}

    def status() -> int:
        return client.get("/v2", headers=headers).status_code

    deadline = time.monotonic() + 10
    while status() != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status() == 200
    client.delete(f"/api/v1/tokens/{made['id']}")
    deadline = time.monotonic() + 10
    while status() != 401 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status() == 401


def test_gate_checks_expiry_and_format() -> None:
    import datetime as dt
    import hashlib

    gate = TokenGate()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    gate.replace({hashlib.sha256(b"old").hexdigest(): past, hashlib.sha256(b"good").hexdigest(): None})
    assert gate.check("Bearer good") is None
    assert gate.check("Bearer old") is not None
    assert gate.check("Basic good") is not None
    assert gate.check(None) is not None
