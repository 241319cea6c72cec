"""One real `mlpilot up --demo` server for the end-to-end and browser tests, as a user would start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

DEMO_TOKEN = "e2e-bootstrap-token-abcdef1234567890"
DEMO_PASSWORD = "demo-admin-password"
READY_TIMEOUT_S = 300


@dataclass(frozen=True)
class DemoServer:
    url: str
    token: str
    password: str
    data_dir: Path
    log_path: Path

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    workdir = tmp_path_factory.mktemp("demo")
    port = _free_port()
    log_path = workdir / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    env.update(MLPILOT_BOOTSTRAP_TOKEN=DEMO_TOKEN, MLPILOT_ADMIN_PASSWORD=DEMO_PASSWORD)
    mlpilot = Path(sys.executable).with_name("mlpilot")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(mlpilot), "up", "--demo", "--port", str(port), "--data-dir", str(workdir / "data")],
            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlpilot up exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"not ready after {READY_TIMEOUT_S} s:\n{log_path.read_text()[-4000:]}")
            time.sleep(1)
        yield DemoServer(url=url, token=DEMO_TOKEN, password=DEMO_PASSWORD, data_dir=workdir / "data",
                         log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
