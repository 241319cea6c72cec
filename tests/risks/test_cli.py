"""`mlpilot pmo risks PROJECT --json` against a running server: manual and detector-raised risks."""

from __future__ import annotations

import datetime as dt
import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mlpilot.cli.main import app
from tests.projects.factories import api_project

runner = CliRunner()


def test_pmo_risks_json_lists_manual_and_detected_risks(client: TestClient, live_server_url: str) -> None:
    project = api_project(client, name="CLI 위험 관리")
    base = f"/api/v1/projects/{project['id']}"
    admin_id = client.get("/api/v1/me").json()["id"]
    client.post(f"{base}/risks", json={"title": "라벨 기준 불일치", "probability": 3, "impact": 4,
                                       "owner_id": admin_id, "mitigation": "라벨링 가이드 합의"})
    today = dt.date.today()
    client.post(f"{base}/milestones", json={"name": "착수보고",
                                            "start_date": (today - dt.timedelta(days=9)).isoformat(),
                                            "due_date": (today - dt.timedelta(days=2)).isoformat()})

    result = runner.invoke(app, ["pmo", "risks", "CLI 위험 관리", "--json", "--scan"])
    assert result.exit_code == 0, result.output
    risks = json.loads(result.output)
    assert [r["source"] for r in risks] == ["milestone_late", "manual"]  # score 20 before 12
    detected, manual = risks
    for key in ("id", "title", "probability", "impact", "score", "status", "owner", "mitigation", "source"):
        assert key in detected and key in manual
    assert manual["owner"] == "admin" and manual["score"] == 12 and manual["mitigation"] == "라벨링 가이드 합의"
    assert detected["status"] == "open" and detected["score"] == detected["probability"] * detected["impact"]
    assert "착수보고" in detected["title"] and detected["mitigation"]

    by_id = runner.invoke(app, ["pmo", "risks", str(project["id"]), "--json", "--status", "closed"])
    assert by_id.exit_code == 0 and json.loads(by_id.output) == []
    table = runner.invoke(app, ["pmo", "risks", str(project["id"])])
    assert table.exit_code == 0 and "milestone_late" in table.output
    missing = runner.invoke(app, ["pmo", "risks", "no such project", "--json"])
    assert missing.exit_code != 0 and "no such project" in missing.output
