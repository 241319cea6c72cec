"""`mlpilot recipes …` as a user types it, against the real app served over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from mlpilot.cli.main import app
from tests.datasets.factories import create_project
from tests.recipes.factories import CLEAN_STEPS, dirty_frame, upload_frame

# The commands only talk HTTP, so one database dialect is enough.
pytestmark = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["recipes", *args])


def test_create_preview_and_apply_from_the_cli(client: TestClient, live_server_url: str, tmp_path: Path) -> None:
    pid = create_project(client, name="CLI recipes")
    source = upload_frame(client, pid, dirty_frame())
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps(CLEAN_STEPS))
    created = run_cli("create", "CLI recipes", "clean", str(steps))
    assert created.exit_code == 0, created.stderr
    recipe_id = created.stdout.split("(id ")[1].split(")")[0]

    previewed = run_cli("preview", recipe_id, str(source))
    assert previewed.exit_code == 0, previewed.stderr
    assert "Sample of 8 rows" in previewed.stdout and "010-****-5678" in previewed.stdout

    applied = run_cli("apply", recipe_id, str(source), "--output", "tidy")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "Stored version 1 of tidy (8 → 7 rows" in applied.stdout

    steps.write_text(json.dumps([{"op": "cast", "column": "age", "to": "int"}]))
    assert run_cli("add-version", recipe_id, str(steps)).exit_code == 0
    failing = run_cli("apply", recipe_id, str(source))
    assert failing.exit_code == 1 and "Step 1 (cast) failed on column 'age'" in failing.stderr
    steps.write_text("[{not json")
    bad = run_cli("add-version", recipe_id, str(steps))
    assert bad.exit_code == 2 and "is not a JSON file" in bad.stderr
