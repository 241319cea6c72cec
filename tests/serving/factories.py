"""Builders for serving tests: model versions backed by real model folders, deployments over the API."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.runtime import Runtime
from mlpilot.registry.flavors import read_manifest
from mlpilot.registry.models import ModelVersion


def make_model_version(runtime: Runtime, *, project_id: int, model_dir: Path, name: str = "churn") -> int:
    """Publish `model_dir` to the store and record it as the next version of `name`; return its id.

    The registry only registers training runs so far; this stands in for a model import and writes the
    same record register_run would (store first, metadata last).
    """
    key = f"models/test/{uuid.uuid4().hex}"
    runtime.store.put_dir(key, model_dir)
    manifest = read_manifest(model_dir)
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        latest = max((v.version for v in session.query(ModelVersion)
                      .filter_by(project_id=project_id, name=name)), default=0)
        model_version = ModelVersion(project_id=project_id, name=name, version=latest + 1, flavor=manifest["flavor"],
                                     signature=manifest["signature"], metrics={}, artifact_key=key)
        session.add(model_version)
        session.flush()
        return model_version.id


def deploy(client: TestClient, *, project_id: int, name: str, model_version_id: int, reason: str = "",
           headers: dict[str, str] | None = None) -> dict:
    """Deploy over the API and return the JSON response (asserting success)."""
    response = client.post(f"/api/v1/projects/{project_id}/services",
                           json={"name": name, "model_version_id": model_version_id, "reason": reason},
                           headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()


def role_headers(client: TestClient, project_id: int, role: str) -> dict[str, str]:
    """Create a user with `role`, make them a project member, and return their API token header."""
    username = f"{role}-user"
    assert client.post("/api/v1/users", json={"username": username, "password": "password-123",
                                              "role": role}).status_code == 201
    assert client.post(f"/api/v1/projects/{project_id}/members", json={"username": username}).status_code == 201
    login = client.post("/login", data={"username": username, "password": "password-123"}, follow_redirects=False)
    cookie = login.cookies.get("mlpilot_session")
    client.cookies.clear()
    made = client.post("/api/v1/tokens", json={"name": "t"}, headers={"Authorization": f"Bearer {cookie}"})
    return {"Authorization": f"Bearer {made.json()['token']}"}


def churn_inputs(rows: int = 2) -> list[dict]:
    """Per-column OIP tensors for the churn model of tests.dataplane.factories."""
    tenure = [float(3 + 10 * i) for i in range(rows)]
    return [
        {"name": "tenure", "shape": [rows], "datatype": "FP64", "data": tenure},
        {"name": "charges", "shape": [rows], "datatype": "FP64", "data": [70.0] * rows},
        {"name": "plan", "shape": [rows], "datatype": "BYTES", "data": ["basic"] * rows},
        {"name": "paperless", "shape": [rows], "datatype": "BOOL", "data": [True] * rows},
    ]


class ExternalEngine:
    """A real HTTP server standing in for an external AI engine: answers, fails, or hangs on demand.

    mode "ok" answers {"predictions": [{"no": p, "yes": 1-p}, ...]} (p from the 'tenure' field), "fail" answers
    HTTP 500, "hang" waits until `release` is set (or 30 s) before answering. `received` is set on each call.
    """

    def __init__(self, mode: str = "ok") -> None:
        import http.server
        import json
        import threading

        self.mode = mode
        self.received = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.api_keys: list[str | None] = []
        engine = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                engine.calls += 1
                engine.api_keys.append(self.headers.get("x-api-key"))
                engine.received.set()
                if engine.mode == "hang":
                    engine.release.wait(30)
                if engine.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"engine crashed")
                    return
                rows = body.get("records", [])
                answer = {"predictions": [{"no": 0.25, "yes": 0.75} if (r.get("tenure") or 0) < 10
                                          else {"no": 0.9, "yes": 0.1} for r in rows]}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/predict"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ExternalEngine:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def external_config(engine: ExternalEngine, name: str = "vendor-api", timeout_s: float = 5.0) -> dict:
    """The external-backend config that talks to `engine` in the churn contract's terms."""
    return {"name": name, "url": engine.url, "timeout_s": timeout_s, "request": {"records": "$records"},
            "response_path": "predictions"}
