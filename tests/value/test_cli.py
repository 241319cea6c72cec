"""`mlpilot value show PROJECT --json` as a user types it, against the real app served over HTTP."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mlpilot.cli.main import app
from mlpilot.core.db import utcnow
from mlpilot.core.runtime import Runtime
from tests.projects.factories import api_project
from tests.value.factories import add_service, add_traffic

# The command only talks HTTP, so one database dialect is enough.
pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


def test_value_show_json_and_table(client: TestClient, runtime: Runtime, live_server_url: str) -> None:
    pid = api_project(client, name="Value CLI")["id"]
    add_service(runtime, project_id=pid, name="cli-svc")
    goal = client.post(f"/api/v1/projects/{pid}/value/nodes", json={"kind": "goal", "name_en": "Serve more"}).json()
    made = client.post(f"/api/v1/projects/{pid}/value/nodes", json={
        "kind": "kpi", "parent_id": goal["id"], "name_en": "Requests", "baseline": 0, "target": 10, "unit": "req",
        "value_per_unit": 1000, "source": "requests", "service_name": "cli-svc"})
    assert made.status_code == 201, made.text
    add_traffic(runtime, service="cli-svc", day=utcnow().date(), requests=4)

    shown = CliRunner().invoke(app, ["value", "show", "Value CLI", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["project_id"] == pid and data["kpis"][0]["actual"] == 4 and data["roi"]["total_benefit"] == 4000
    table = CliRunner().invoke(app, ["value", "show", str(pid)])
    assert table.exit_code == 0 and "Requests" in table.stdout and "Benefit 4,000 KRW" in table.stdout
    missing = CliRunner().invoke(app, ["value", "show", "No such project"])
    assert missing.exit_code == 1 and "No project named" in missing.stderr
