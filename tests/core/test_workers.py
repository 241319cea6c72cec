"""Several processes on one database: a server that only queues jobs (`jobs.executor = "queue"`) and real
`mlpilot worker` processes that claim them — each job once — and take over the jobs of a worker that was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.app import create_app
from mlpilot.core.jobs import INTERRUPTED, PROCESS_OWNER
from mlpilot.settings import Settings
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings
from tests.datasets.factories import churn_sample_tsv, create_project, upload, wait_job

ROOT = Path(__file__).resolve().parents[2]
JOB_SETTINGS = {"executor": "queue", "lease_seconds": 3, "heartbeat_seconds": 0.5, "poll_seconds": 0.1,
                "workers": 1}


@pytest.fixture
def queue_settings(tmp_path: Path, dialect: str, databases: DatabaseFactory) -> Settings:
    return make_settings(tmp_path, databases.new_url(dialect), jobs=JOB_SETTINGS)


@pytest.fixture
def server(queue_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(queue_settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MLPILOT_DATABASE_URL": settings.database_url, "MLPILOT_DATA_DIR": str(settings.data_dir),
           **{f"MLPILOT_JOBS__{k.upper()}": str(v) for k, v in JOB_SETTINGS.items()},
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "mlpilot", "worker"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def owner_pid(owner: str) -> int:
    return int(owner.split(":")[-2])


def test_workers_claim_every_queued_job_once(server: TestClient, queue_settings: Settings) -> None:
    pid = create_project(server)
    job_ids = []
    for i in range(4):
        response = upload(server, pid, name=f"part-{i}", filename=f"p{i}.tsv", data=churn_sample_tsv(200, seed=i))
        assert response.status_code == 201, response.text
        job_ids.append(response.json()["profile_job_id"])
    time.sleep(0.5)
    # The server runs no job itself: they wait for a worker.
    assert {server.get(f"/api/v1/jobs/{j}").json()["state"] for j in job_ids} == {"queued"}

    workers = [start_worker(queue_settings) for _ in range(2)]
    try:
        finished = [wait_job(server, j, timeout=120) for j in job_ids]
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=60)[0].decode() for worker in workers]
    assert [job["state"] for job in finished] == ["succeeded"] * 4, [job["error"] for job in finished]
    worker_pids = {worker.pid for worker in workers}
    for job_id in job_ids:
        log = server.get(f"/api/v1/jobs/{job_id}/log").json()["log"]
        assert log.count("started by ") == 1, log
        started_by = log.split("started by ", 1)[1].split()[0]
        assert owner_pid(started_by) in worker_pids and started_by != PROCESS_OWNER
    assert all(worker.returncode == 0 for worker in workers), outputs
    assert all("Stopping: letting the running jobs finish" in out for out in outputs), outputs


def test_the_job_of_a_killed_worker_is_failed_by_another_and_never_run_twice(
        server: TestClient, queue_settings: Settings) -> None:
    pid = create_project(server)
    version = upload(server, pid, name="churn", filename="c.tsv", data=churn_sample_tsv(300)).json()
    doomed = start_worker(queue_settings)
    try:
        assert wait_job(server, version["profile_job_id"], timeout=120)["state"] == "succeeded"
        started = server.post(f"/api/v1/projects/{pid}/runs", json={
            "time_budget_s": 60, "dataset_version_id": version["version"]["id"], "target": "target",
            "task": "binary", "engine": "lightgbm"})
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        deadline = time.monotonic() + 60
        while server.get(f"/api/v1/jobs/{job_id}").json()["state"] != "running":
            assert time.monotonic() < deadline, "the worker never started the training job"
            time.sleep(0.1)
        doomed.kill()  # a lost machine: no clean-up of its own
        doomed.wait(timeout=30)
        survivor = start_worker(queue_settings)
        try:
            job = wait_job(server, job_id, timeout=60)
        finally:
            survivor.send_signal(signal.SIGTERM)
            survivor.communicate(timeout=60)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    assert job["state"] == "failed" and job["error"] == INTERRUPTED
    log = server.get(f"/api/v1/jobs/{job_id}/log").json()["log"]
    assert log.count("started by ") == 1  # the survivor failed it; it did not run it again
    run = server.get(f"/api/v1/runs/{started.json()['run']['id']}").json()
    assert run["status"] == "failed"
