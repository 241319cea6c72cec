"""`mlpilot data connections …` against the running demo server: add, test, preview and ingest a Korean export."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.datasets.connectors.factories import korean_csv
from tests.e2e.conftest import DemoServer
from tests.e2e.test_cli import run_cli

pytestmark = pytest.mark.e2e


def test_connection_commands(demo_server: DemoServer, tmp_path: Path) -> None:
    # Users drop files into the server's imports folder, the one place the default allow-list admits.
    export = demo_server.data_dir / "imports" / "customers.csv"
    export.write_bytes(korean_csv("cp949"))
    token = demo_server.token
    created = run_cli(demo_server, "projects", "create", "Connections pilot", token=token)
    assert created.returncode == 0, created.stderr
    added = run_cli(demo_server, "data", "connections", "add", "Connections pilot", "crm", "--kind", "file",
                    "--set", f"path={export}", token=token)
    assert added.returncode == 0, added.stdout + added.stderr
    cid = added.stdout.split("(id ")[1].split(")")[0]
    listed = run_cli(demo_server, "data", "connections", "list", "Connections pilot", token=token)
    assert listed.returncode == 0 and "crm" in listed.stdout
    tested = run_cli(demo_server, "data", "connections", "test", cid, token=token)
    assert tested.returncode == 0 and "Connection works" in tested.stdout
    shown = run_cli(demo_server, "data", "connections", "preview", cid, "--limit", "2", token=token)
    assert shown.returncode == 0 and "홍길동" in shown.stdout and "이영희" not in shown.stdout
    ingested = run_cli(demo_server, "data", "connections", "ingest", cid, "--dataset", "customers", token=token)
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    assert "Stored version 1 of 'customers': 3 rows" in ingested.stdout and "Profile ready" in ingested.stdout

    down = run_cli(demo_server, "data", "connections", "add", "Connections pilot", "erp", "--kind", "sql",
                   "--set", "url=postgresql+psycopg://reader@127.0.0.1:1/erp", "--set", "table=orders",
                   "--secret", "password=Secret-pw-1", token=token)
    assert down.returncode == 0, down.stderr
    down_id = down.stdout.split("(id ")[1].split(")")[0]
    failed = run_cli(demo_server, "data", "connections", "test", down_id, token=token)
    assert failed.returncode == 1 and "Cannot connect" in failed.stderr and "Secret-pw-1" not in failed.stderr
    bad = run_cli(demo_server, "data", "connections", "add", "Connections pilot", "x", "--kind", "file",
                  "--set", "nonsense", token=token)
    assert bad.returncode == 2 and "KEY=VALUE" in bad.stderr
