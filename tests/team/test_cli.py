"""`mlpilot team …` as a user types it, against the real app served over HTTP."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mlpilot.cli.main import app
from tests.projects.factories import api_project

# The commands only talk HTTP, so one database dialect is enough.
pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


def test_team_gaps_compare_and_tables(client: TestClient, live_server_url: str) -> None:
    pid = api_project(client, name="Team CLI")["id"]
    runner = CliRunner()
    reference = json.loads(runner.invoke(app, ["team", "compare", "Team CLI", "--years", "2", "--json"]).stdout)
    assert reference["basis"] == "reference" and len(reference["managed"]["years"]) == 2
    assert client.post(f"/api/v1/projects/{pid}/plan-from-template",
                       json={"template_key": "ai-7-step", "start_date": "2027-01-04"}).status_code == 201
    suggested = runner.invoke(app, ["team", "suggest", "Team CLI"])
    assert suggested.exit_code == 0 and "Added 17 needs" in suggested.stdout, suggested.output

    gaps = runner.invoke(app, ["team", "gaps", "Team CLI", "--json"])
    assert gaps.exit_code == 0, gaps.output
    data = json.loads(gaps.stdout)
    assert data["weeks"][0] == "2027-W01" and {r["role"] for r in data["rows"]} >= {"data_engineer", "pm"}
    compared = json.loads(runner.invoke(app, ["team", "compare", str(pid), "--years", "3", "--json"]).stdout)
    assert compared["basis"] == "plan" and compared["years"] == 3
    assert compared["in_house"]["total"] == compared["in_house"]["years"][-1]["cumulative"]
    assert compared["cheaper"] in ("in_house", "managed")

    for command in (["gaps", "Team CLI"], ["skills", "Team CLI"], ["cost", "Team CLI"], ["compare", "Team CLI"],
                    ["salaries"]):
        shown = runner.invoke(app, ["team", *command])
        assert shown.exit_code == 0, (command, shown.output)
    assert "data_engineer" in runner.invoke(app, ["team", "cost", "Team CLI"]).stdout
    assert runner.invoke(app, ["team", "compare", "Team CLI", "--years", "4"]).exit_code == 2
    missing = runner.invoke(app, ["team", "gaps", "No such project"])
    assert missing.exit_code == 1 and "No project named" in missing.stderr
