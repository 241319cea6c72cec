"""`mlpilot recipes …` as a user types it, against the real app served over HTTP."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from mlpilot.cli.main import app
from mlpilot.settings import get_settings
from tests.conftest import ADMIN_TOKEN
from tests.datasets.factories import create_project
from tests.recipes.factories import CLEAN_STEPS, dirty_frame, upload_frame

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
    return CliRunner().invoke(app, ["recipes", *args])


def test_create_preview_and_apply_from_the_cli(client: TestClient, server_url: str, tmp_path: Path) -> None:
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
