"""`mlpilot pipelines …` as a user types it, against the real app served over HTTP."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from mlpilot.cli.main import app
from mlpilot.core.db import session_scope
from tests.feeder.factories import SourceDatabase, create_sql_connection

# The commands only talk HTTP, so one database dialect is enough.
pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["pipelines", *args])


def test_create_run_show_and_disable_from_the_cli(client: TestClient, live_server_url: str,
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
