"""`mlpilot pmo digest|meetings|deliverables` against the real app served over HTTP."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mlpilot.cli.main import app

pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
TODAY = dt.date.today()


def test_digest_meetings_and_deliverables_commands(client: TestClient, live_server_url: str) -> None:
    pid = client.post("/api/v1/projects", json={"name": "CLI comms"}).json()["id"]
    base = f"/api/v1/projects/{pid}"
    client.post(f"{base}/meetings", json={"title": "Kick-off", "held_on": TODAY.isoformat(), "action_items": [
        {"title": "Share data", "due_date": TODAY.isoformat()}]})
    milestone = client.post(f"{base}/milestones", json={"name": "M1", "start_date": TODAY.isoformat(),
                                                         "due_date": TODAY.isoformat()}).json()
    client.post(f"{base}/deliverables", json={"milestone_id": milestone["id"], "kind": "document", "name": "Plan"})
    runner = CliRunner()
    digest = runner.invoke(app, ["pmo", "digest", "CLI comms", "--json"])
    assert digest.exit_code == 0, digest.output
    figures = json.loads(digest.stdout)
    assert figures["project_id"] == pid and figures["deliverables_awaiting"] == 1 and figures["percent_done"] == 0.0
    meetings = json.loads(runner.invoke(app, ["pmo", "meetings", str(pid), "--json"]).stdout)
    assert meetings[0]["action_items"][0]["title"] == "Share data"
    rows = json.loads(runner.invoke(app, ["pmo", "deliverables", "CLI comms", "--json"]).stdout)
    assert [(d["name"], d["status"]) for d in rows] == [("Plan", "awaiting")]
    table = runner.invoke(app, ["pmo", "digest", "CLI comms"])
    assert table.exit_code == 0 and "awaiting the client" in table.stdout
    no_one = runner.invoke(app, ["pmo", "digest", "CLI comms", "--send"])
    assert no_one.exit_code != 0 and "recipient" in no_one.output
