"""`mlpilot runs …` (engines, show, tag, compare) as a user types it, against the real app over HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from mlpilot.cli.main import app
from tests.datasets.factories import create_project, csv_bytes, synthetic_frame, upload_ok, wait_job

pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["runs", *args])


def test_engines_show_tag_and_compare_from_the_cli(client: TestClient, live_server_url: str) -> None:
    pid = create_project(client, "CLI runs")
    version = upload_ok(client, pid, name="reg", filename="r.csv",
                        data=csv_bytes(synthetic_frame("regression")))["version"]
    ids = []
    for params in ({}, {"num_leaves": 2, "num_boost_round": 3}):
        started = client.post(f"/api/v1/projects/{pid}/runs",
                              json={"dataset_version_id": version["id"], "target": "y", "engine": "lightgbm",
                                    "time_budget_s": 2, "params": params, "sensitive_column": "colour"}).json()
        assert wait_job(client, started["job_id"], timeout=120)["state"] == "succeeded"
        ids.append(str(started["run"]["id"]))

    engines = run_cli("engines")
    assert engines.exit_code == 0, engines.stdout + engines.stderr
    assert "lightgbm" in engines.stdout and "autogluon" in engines.stdout

    shown = run_cli("show", ids[0])
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    assert "Metrics (held-out test split)" in shown.stdout and "rmse" in shown.stdout
    assert "Fairness over colour" in shown.stdout and "lightgbm" in shown.stdout

    tagged = run_cli("tag", ids[0], "--add", "champion", "--add", "q3", "--notes", "best so far")
    assert tagged.exit_code == 0 and "champion, q3" in tagged.stdout
    untagged = run_cli("tag", ids[0], "--remove", "q3")
    assert untagged.exit_code == 0 and "tags: champion" in untagged.stdout
    nothing = run_cli("tag", ids[0])
    assert nothing.exit_code != 0
    listed = run_cli("list", "CLI runs", "--tag", "champion")
    assert listed.exit_code == 0 and "champion" in listed.stdout

    compared = run_cli("compare", *ids)
    assert compared.exit_code == 0, compared.stdout + compared.stderr
    assert f"#{ids[0]} lightgbm" in compared.stdout and "rmse" in compared.stdout and "*" in compared.stdout
    alone = run_cli("compare", ids[0])
    assert alone.exit_code != 0 and "at least two" in alone.stdout + alone.stderr
