"""`mlpilot pipelines …` as a user types it, against the real app served over HTTP."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from mlpilot.cli.main import app
from mlpilot.core.db import session_scope
from mlpilot.settings import get_settings
from tests.conftest import ADMIN_TOKEN
from tests.feeder.factories import SourceDatabase, create_sql_connection

# The commands only talk HTTP, so one database dialect is enough.
pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


@pytest.fixture
def server_url(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Serve the already started app of `client` over HTTP (its lifespan is owned by the test client)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(client.app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
        assert thread.is_alive(), "the test server did not start"
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MLPILOT_URL", url)
    monkeypatch.setenv("MLPILOT_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    server.should_exit = True
    thread.join(10)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["pipelines", *args])


def test_create_run_show_and_disable_from_the_cli(client: TestClient, server_url: str,
                                                  source: SourceDatabase) -> None:
    source.add_rows(7)
    name = f"CLI feed {uuid.uuid4().hex[:6]}"
    project_id = client.post("/api/v1/projects", json={"name": name}).json()["id"]
    runtime = client.app.state.runtime
    with session_scope(runtime.sessions) as session:
        connection_id = create_sql_connection(session, runtime, project_id=project_id, url=source.url)

    bad = run_cli("create", name, "--name", "feed", "--connection", str(connection_id), "--dataset", "orders",
                  "--schedule", "0 2 * *")
    assert bad.exit_code == 1 and "not a cron expression" in bad.stderr
    created = run_cli("create", name, "--name", "feed", "--connection", str(connection_id), "--dataset", "orders",
                      "--schedule", "0 2 * * *", "--timezone", "Asia/Seoul")
    assert created.exit_code == 0, created.stderr
    assert "Created pipeline feed" in created.stdout
    pipeline_id = client.get(f"/api/v1/projects/{project_id}/pipelines").json()[0]["id"]

    ran = run_cli("run", str(pipeline_id))
    assert ran.exit_code == 0, ran.stderr
    assert "wrote v1" in ran.stdout and "read 7 rows" in ran.stdout

    shown = run_cli("show", str(pipeline_id))
    assert shown.exit_code == 0 and "succeeded" in shown.stdout and "0 2 * * *" in shown.stdout
    listed = run_cli("list", name)
    assert listed.exit_code == 0 and "feed" in listed.stdout and "Asia/Seoul" in listed.stdout
    disabled = run_cli("disable", str(pipeline_id))
    assert disabled.exit_code == 0 and "is disabled" in disabled.stdout
    assert client.get(f"/api/v1/pipelines/{pipeline_id}").json()["enabled"] is False
