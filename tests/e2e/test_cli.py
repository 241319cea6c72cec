"""The `mlpilot` client commands against the running demo server, as a user types them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import DemoServer

pytestmark = pytest.mark.e2e
MLPILOT = Path(sys.executable).with_name("mlpilot")


def run_cli(server: DemoServer, *args: str, token: str | None = None, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    env.update(MLPILOT_URL=server.url, COLUMNS="200")
    if token is not None:
        env["MLPILOT_TOKEN"] = token
    return subprocess.run([str(MLPILOT), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120,
                          check=False)


def test_read_commands_show_the_demo(demo_server: DemoServer) -> None:
    listed = run_cli(demo_server, "projects", "list", token=demo_server.token)
    assert listed.returncode == 0, listed.stderr
    assert "Customer churn" in listed.stdout and "operate" in listed.stdout
    board = run_cli(demo_server, "runs", "leaderboard", "Customer churn", token=demo_server.token)
    assert board.returncode == 0 and "roc_auc" in board.stdout
    services = run_cli(demo_server, "services", "list", token=demo_server.token)
    assert services.returncode == 0 and "churn" in services.stdout


def test_upload_train_and_download_report(demo_server: DemoServer, tmp_path: Path) -> None:
    rows = ["x,y,label"] + [f"{i % 7},{(i * 3) % 11},{'yes' if (i % 7) > 3 else 'no'}" for i in range(200)]
    data = tmp_path / "tiny.csv"
    data.write_text("\n".join(rows) + "\n")
    created = run_cli(demo_server, "projects", "create", "CLI pilot", "--client", "Ops team",
                      token=demo_server.token)
    assert created.returncode == 0, created.stderr
    uploaded = run_cli(demo_server, "datasets", "upload", "CLI pilot", str(data), token=demo_server.token)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert "200 rows" in uploaded.stdout and "Profile ready" in uploaded.stdout
    version_id = uploaded.stdout.split("id ")[1].split(")")[0]
    trained = run_cli(demo_server, "runs", "train", "CLI pilot", "--dataset-version", version_id,
                      "--target", "label", "--budget", "5", token=demo_server.token)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "roc_auc" in trained.stdout
    rendered = run_cli(demo_server, "reports", "render", "CLI pilot", token=demo_server.token)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    report_id = rendered.stdout.split("Report ")[1].split(" ")[0]
    downloaded = run_cli(demo_server, "reports", "download", report_id, token=demo_server.token, cwd=tmp_path)
    assert downloaded.returncode == 0, downloaded.stderr
    assert (tmp_path / f"report-{report_id}.pdf").read_bytes().startswith(b"%PDF")


def test_errors_are_clear_and_exit_non_zero(demo_server: DemoServer) -> None:
    no_token = run_cli(demo_server, "projects", "list")
    assert no_token.returncode == 2 and "MLPILOT_TOKEN" in no_token.stderr
    wrong = run_cli(demo_server, "projects", "list", token="wrong")
    assert wrong.returncode == 1 and "401" in wrong.stderr
    missing = run_cli(demo_server, "projects", "show", "No such project", token=demo_server.token)
    assert missing.returncode == 1 and "No project named" in missing.stderr
