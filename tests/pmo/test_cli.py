"""`mlpilot pmo critical-path|forecast PROJECT --json` against the real app served over HTTP."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from mlpilot.cli.main import app

# The commands only talk HTTP, so one database dialect is enough.
pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["pmo", *args])


def test_critical_path_and_forecast_json(client: TestClient, live_server_url: str) -> None:
    name = f"Schedule {uuid.uuid4().hex[:6]}"
    pid = client.post("/api/v1/projects", json={"name": name}).json()["id"]
    base = f"/api/v1/projects/{pid}"
    ids = [client.post(f"{base}/tasks", json={"title": t, "start_date": s, "due_date": d}).json()["id"]
           for t, s, d in (("Collect", "2026-03-02", "2026-03-06"), ("Train", "2026-03-07", "2026-03-12"),
                           ("Slides", "2026-03-02", "2026-03-03"))]
    client.post(f"{base}/dependencies", json={"predecessor_id": ids[0], "successor_id": ids[1]})
    by_name = run_cli("critical-path", name, "--json")
    assert by_name.exit_code == 0, by_name.stderr
    result = json.loads(by_name.stdout)
    assert result["project_id"] == pid and result["finish"] == "2026-03-12"
    assert [(t["id"], t["title"], t["start"], t["finish"], t["float_days"]) for t in result["critical_path"]] == [
        (ids[0], "Collect", "2026-03-02", "2026-03-06", 0), (ids[1], "Train", "2026-03-07", "2026-03-12", 0)]
    floats = {t["title"]: (t["float_days"], t["critical"]) for t in result["tasks"]}
    assert floats == {"Collect": (0, True), "Train": (0, True), "Slides": (9, False)}
    by_id = run_cli("critical-path", str(pid), "--json")
    assert json.loads(by_id.stdout) == result
    table = run_cli("critical-path", name)
    assert table.exit_code == 0 and "Slides" in table.stdout and "2026-03-12" in table.stdout
    forecast = json.loads(run_cli("forecast", name, "--json").stdout)
    assert forecast["project_id"] == pid and forecast["draws"] == 10_000 and forecast["source"] == "prior"
    assert forecast["project"]["p50"] <= forecast["project"]["p85"]
    missing = run_cli("critical-path", "no such project", "--json")
    assert missing.exit_code != 0 and "no such project" in (missing.stderr + missing.stdout)
