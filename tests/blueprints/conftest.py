"""One live app per module: instantiating blueprints trains models, so the tests of a module share it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from mlpilot.settings import get_settings
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings

# Short training keeps instantiating every built-in fast; the data is small and seeded.
BUDGET_S = 2.0


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory,
                  dialect: str) -> Iterator[TestClient]:
    from mlpilot.app import create_app

    tmp: Path = tmp_path_factory.mktemp("blueprints")
    app = create_app(make_settings(tmp, databases.new_url(dialect)))
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield test_client


@pytest.fixture(scope="module")
def shared_live_url(shared_client: TestClient) -> Iterator[str]:
    """Serve the module's app over HTTP for the CLI (MLPILOT_URL and MLPILOT_TOKEN point at it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(shared_client.app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
        assert thread.is_alive(), "the test server did not start"
    url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPILOT_URL", url)
        patch.setenv("MLPILOT_TOKEN", ADMIN_TOKEN)
        patch.setenv("COLUMNS", "200")
        get_settings.cache_clear()
        yield url
        get_settings.cache_clear()
    server.should_exit = True
    thread.join(10)


def wait_job(client: TestClient, job_id: int, timeout: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return dict(job)
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']}"
        time.sleep(0.2)


def instantiate(client: TestClient, name: str, project_name: str) -> dict[str, Any]:
    started = client.post(f"/api/v1/blueprints/{name}/instantiate",
                          json={"project_name": project_name, "time_budget_s": BUDGET_S})
    assert started.status_code == 202, started.text
    return wait_job(client, started.json()["job_id"])
