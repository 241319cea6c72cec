"""The Ray executor on a real local cluster (a head and two one-CPU worker nodes, shared by every test here).

Every job kind runs through the normal services with `jobs.executor = "ray"`: the job is claimed here, runs in a
Ray task on a worker node that opens its own database sessions and store, and ends as it would on the local
executor. Faults are real: an unreachable address, a worker node killed mid-job, two runners racing for a job.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mlpilot.app import prepare_runtime
from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput
from mlpilot.core.ray_executor import RayExecutor
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.recipes import service as recipes_service
from mlpilot.scoring import service as scoring_service
from mlpilot.scoring.specs import parse_output, parse_source
from mlpilot.settings import Settings
from mlpilot.training import service as training_service
from tests.conftest import DatabaseFactory, RayCluster, make_settings
from tests.datasets.factories import make_version, synthetic_frame
from tests.projects.factories import make_project, make_user

pytestmark = pytest.mark.ray
NODE = re.compile(r"running on Ray node ([0-9a-f]+)")


@jobs.job_handler("test.ray.steps")
def _steps(ctx: jobs.JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Reports each step; when stopped it leaves a mark in the shared store (what the test waits for)."""
    try:
        for i in range(params["steps"]):
            ctx.log(f"step {i + 1}")
            ctx.progress((i + 1) / params["steps"], f"step {i + 1}", force=True)
            time.sleep(params.get("pause", 0.0))
    except jobs.JobCancelled:
        ctx.runtime.store.put_bytes(f"marks/{ctx.job_id}-stopped", b"stopped")
        raise
    return {"steps": params["steps"], "pid": os.getpid()}


class HeldExecutor:
    """Records submissions without running them (the test hands the job to the runners itself)."""

    def submit(self, job_id: int) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        pass


@pytest.fixture(scope="module")
def world(ray_cluster: RayCluster, tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory,
          dialect: str) -> Iterator[dict[str, Any]]:
    """One installation (database + local folder store) with a Ray runtime and a local-executor runtime."""
    tmp = tmp_path_factory.mktemp(f"ray-{dialect}")
    url = databases.new_url(dialect)
    ray_settings = make_settings(tmp, url, jobs={"executor": "ray", "ray_address": ray_cluster.address,
                                                 "heartbeat_seconds": 0.5, "lease_seconds": 30})
    runtime = Runtime.from_settings(ray_settings)
    prepare_runtime(runtime)
    runtime.start_executor()
    local = Runtime.from_settings(make_settings(tmp, url))
    local.start_executor()
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        version_id = make_version(session, runtime, project_id=project.id, user_id=user.id,
                                  frame=synthetic_frame("binary", rows=400))
        ids = {"user_id": user.id, "project_id": project.id, "version_id": version_id}
    yield {"runtime": runtime, "local": local, "tmp": tmp, "cluster": ray_cluster, **ids}
    local.close()
    runtime.close()


def finished(runtime: Runtime, job_id: int, timeout: float = 180) -> jobs.Job:
    return jobs.wait_for_job(runtime, job_id, timeout=timeout)


def ran_on_ray(job: jobs.Job) -> str:
    """The Ray node the job ran on (its worker writes it first in the log)."""
    found = NODE.findall(job.log)
    assert len(found) == 1, job.log  # one task ran it, once
    return found[0]


def test_profiling_on_the_cluster_gives_the_local_profile(world: dict[str, Any]) -> None:
    frame = synthetic_frame("binary", rows=300, seed=9)
    profiles = []
    for runtime in (world["runtime"], world["local"]):
        with session_scope(runtime.sessions) as session:
            version, job_id = datasets_service.create_dataset_version(
                session, runtime=runtime, project_id=world["project_id"], name=f"profiled-{len(profiles)}",
                filename="p.csv", data=frame.write_csv().encode(), user_id=world["user_id"])
        job = finished(runtime, job_id)
        assert job.state == "succeeded", job.error
        with session_scope(runtime.sessions) as session:
            profile = datasets_service.find_dataset_profile(session, version_id=version.id)
            assert profile is not None
            profiles.append({k: v for k, v in profile.profile.items() if k != "seconds"})  # its own timing
        if runtime is world["runtime"]:
            ran_on_ray(job)
        else:
            assert NODE.search(job.log) is None
    assert profiles[0]["rows"] == 300
    assert profiles[0] == profiles[1]


def test_recipe_run_and_the_profiling_it_starts_run_on_the_cluster(world: dict[str, Any]) -> None:
    runtime = world["runtime"]
    with session_scope(runtime.sessions) as session:
        recipe = recipes_service.create_recipe(session, project_id=world["project_id"], name="ray-recipe",
                                               steps=[{"op": "duplicates"}], user_id=world["user_id"])
        recipe_version_id = recipes_service.find_recipe_version(session, recipe_id=recipe.id).id
    results = []
    for rt, name in ((runtime, "cleaned-ray"), (world["local"], "cleaned-local")):
        with session_scope(rt.sessions) as session:
            job_id = recipes_service.run_recipe(session, runtime=rt, recipe_version_id=recipe_version_id,
                                                dataset_version_id=world["version_id"], output_name=name,
                                                user_id=world["user_id"]).id
        job = finished(rt, job_id)
        assert job.state == "succeeded", job.error
        results.append(job.result or {})
    ray_result, local_result = results
    ran_on_ray(finished(runtime, ray_result["profile_job_id"]))  # created on a worker, started by the driver
    assert {k: ray_result[k] for k in ("rows_in", "rows_out", "steps")} == \
           {k: local_result[k] for k in ("rows_in", "rows_out", "steps")}
    with session_scope(runtime.sessions) as session:
        frames = [datasets_service.read_dataset_version_frame(
            session, store=runtime.store, version_id=r["dataset_version_id"])
                  for r in results]
    assert frames[0].equals(frames[1])


def test_training_run_on_the_cluster(world: dict[str, Any]) -> None:
    runtime = world["runtime"]
    with session_scope(runtime.sessions) as session:
        run = training_service.create_run(session, runtime=runtime, project_id=world["project_id"],
                                          dataset_version_id=world["version_id"], target="y", engine="lightgbm",
                                          time_budget_s=5, user_id=world["user_id"])
    job = finished(runtime, run.job_id)
    assert job.state == "succeeded", job.error
    ran_on_ray(job)
    with session_scope(runtime.sessions) as session:
        [done] = [r for r in training_service.list_runs(session, project_id=world["project_id"]) if r.id == run.id]
        assert done.status == "succeeded" and done.artifact_key and done.metrics
        assert runtime.store.exists(done.artifact_key)  # the worker wrote the model to the shared store


def score(world: dict[str, Any], runtime: Runtime, source: Path, out: Path, *, chunk_rows: int) -> tuple[int, int]:
    """Create and submit a scoring run; return (run id, job id)."""
    with session_scope(runtime.sessions) as session:
        run = scoring_service.create_run(session, guard=runtime.allowlist,
                                         source=parse_source({"kind": "file", "path": str(source)}),
                                         output=parse_output({"kind": "file", "path": str(out)}),
                                         model_path=str(world["model"]), chunk_rows=chunk_rows,
                                         project_id=world["project_id"])
        job_id = scoring_service.submit_run(session, runtime=runtime, run_id=run.id).job_id
        assert job_id is not None
        return run.id, job_id


def scoring_table(world: dict[str, Any], rows: int) -> Path:
    """A churn model (once) and a CSV of `rows` rows to score with it."""
    from tests.dataplane.factories import make_churn_model

    if "model" not in world:
        world["model"] = make_churn_model(world["tmp"] / "model")
    source = world["tmp"] / f"score-in-{rows}.csv"
    pl.DataFrame({"tenure": [float(i % 60) for i in range(rows)], "charges": [float(i % 97) for i in range(rows)],
                  "plan": ["basic", "premium", "basic"] * (rows // 3), "paperless": [True, False] * (rows // 2)},
                 ).write_csv(source)
    return source


def test_batch_scoring_on_the_cluster_gives_the_local_predictions(world: dict[str, Any]) -> None:
    scoring_input = scoring_table(world, 60_000)
    outputs = []
    for rt in (world["runtime"], world["local"]):
        out = world["tmp"] / f"scored-{len(outputs)}.parquet"
        _, job_id = score(world, rt, scoring_input, out, chunk_rows=20_000)
        job = finished(rt, job_id)
        assert job.state == "succeeded", job.error
        outputs.append(pl.read_parquet(out))
    assert outputs[0].height == 60_000
    assert outputs[0].equals(outputs[1])


def test_progress_and_logs_are_visible_while_the_job_runs(world: dict[str, Any]) -> None:
    runtime = world["runtime"]
    with session_scope(runtime.sessions) as session:
        job_id = jobs.create_job(session, runtime=runtime, kind="test.ray.steps", params={"steps": 40, "pause": 0.1}).id
    seen: tuple[float, str] | None = None
    deadline = time.monotonic() + 120
    while seen is None and time.monotonic() < deadline:
        with session_scope(runtime.sessions) as session:
            job = jobs.get_job(session, job_id=job_id)
            if job.state == "running" and 0 < job.progress < 1 and "step " in job.log:
                seen = (job.progress, job.message)
        time.sleep(0.05)
    assert seen is not None and seen[1].startswith("step ")
    job = finished(runtime, job_id)
    assert job.state == "succeeded" and job.progress == 1.0 and job.log.count("step ") == 40
    assert job.result is not None and job.result["pid"] != os.getpid()  # it ran in a Ray worker process


def test_cancelling_stops_the_task_and_keeps_the_cancelled_state(world: dict[str, Any]) -> None:
    runtime = world["runtime"]
    with session_scope(runtime.sessions) as session:
        job_id = jobs.create_job(session, runtime=runtime, kind="test.ray.steps",
                                 params={"steps": 10_000, "pause": 0.05}).id
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with session_scope(runtime.sessions) as session:
            if jobs.get_job(session, job_id=job_id).progress > 0:
                break
        time.sleep(0.05)
    with session_scope(runtime.sessions) as session:
        assert jobs.cancel_job(session, job_id=job_id).state == "failed"
        with pytest.raises(Exception, match="already finished"):
            jobs.cancel_job(session, job_id=job_id)
    mark = f"marks/{job_id}-stopped"
    while not runtime.store.exists(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert runtime.store.get_bytes(mark) == b"stopped"  # the worker noticed at its next progress report
    job = finished(runtime, job_id)
    assert job.state == "failed" and job.error == jobs.CANCELLED and job.progress < 1


def test_two_runners_racing_for_one_job_run_it_once(world: dict[str, Any], tmp_path: Path) -> None:
    runtime = world["runtime"]
    second = Runtime.from_settings(runtime.settings)
    second.start_executor()
    try:
        live, runtime.executor = runtime.executor, HeldExecutor()
        try:
            with session_scope(runtime.sessions) as session:
                job_id = jobs.create_job(session, runtime=runtime, kind="test.ray.steps", params={"steps": 3}).id
        finally:
            runtime.executor = live
        assert isinstance(live, RayExecutor) and isinstance(second.executor, RayExecutor)
        for _ in range(3):
            live.submit(job_id)
            second.executor.submit(job_id)
        job = finished(runtime, job_id)
        assert job.state == "succeeded" and job.result == {"steps": 3, "pid": job.result["pid"]}
        ran_on_ray(job)  # exactly one task ran it
        assert job.log.count("step 1\n") == 1
    finally:
        second.close()


def test_a_missing_address_is_refused(tmp_path: Path) -> None:
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path, jobs={"executor": "ray"}))
    try:
        with pytest.raises(InvalidInput, match="MLPILOT_JOBS__RAY_ADDRESS"):
            runtime.start_executor()
    finally:
        runtime.close()


def unreachable_env(tmp_path: Path) -> tuple[str, dict[str, str]]:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    return address, {**os.environ, "MLPILOT_DATA_DIR": str(tmp_path), "MLPILOT_JOBS__EXECUTOR": "ray",
                     "MLPILOT_JOBS__RAY_ADDRESS": address, "COLUMNS": "300"}


def test_an_unreachable_cluster_fails_the_start_naming_the_address(tmp_path: Path) -> None:
    address, env = unreachable_env(tmp_path)
    code = "from mlpilot.core.runtime import Runtime\nfrom mlpilot.settings import Settings\n" \
           "Runtime.from_settings(Settings()).start_executor()\n"
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode != 0
    assert f"Unavailable: The Ray cluster at {address} is unreachable" in child.stderr


def test_mlpilot_up_refuses_to_start_without_its_cluster(tmp_path: Path) -> None:
    address, env = unreachable_env(tmp_path)
    child = subprocess.run([sys.executable, "-c", "from mlpilot.cli.main import app; app()", "up", "--port", "0"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == 1, child.stdout + child.stderr
    assert f"The Ray cluster at {address} is unreachable" in child.stdout
    assert "Uvicorn running" not in child.stdout + child.stderr  # it never served on local threads instead


def kill_the_node_running(world: dict[str, Any], job_id: int, started: str) -> None:
    """Once the job's progress message starts with `started`, kill the Ray node running it."""
    runtime = world["runtime"]
    node = None
    deadline = time.monotonic() + 120
    while node is None and time.monotonic() < deadline:
        with session_scope(runtime.sessions) as session:
            job = jobs.get_job(session, job_id=job_id)
            assert job.state in jobs.ACTIVE, job.error  # it must still be running when the node dies
            if job.message.startswith(started):
                node = NODE.findall(job.log)[0]
        time.sleep(0.02)
    assert node is not None
    world["cluster"].kill_node(node)


def test_a_worker_node_killed_mid_job_fails_the_job_cleanly(world: dict[str, Any]) -> None:
    runtime = world["runtime"]
    with session_scope(runtime.sessions) as session:
        job_id = jobs.create_job(session, runtime=runtime, kind="test.ray.steps",
                                 params={"steps": 10_000, "pause": 0.02}).id
    kill_the_node_running(world, job_id, "step ")
    job = finished(runtime, job_id)
    assert job.state == "failed" and "Ray worker running it was lost" in (job.error or "")
    assert "NodeDiedError" in (job.error or "") and job.progress < 1
    ran_on_ray(job)  # not resumable: never run again


def test_a_worker_node_killed_mid_scoring_resumes_it_elsewhere_with_one_prediction_per_row(
        world: dict[str, Any]) -> None:
    runtime = world["runtime"]
    rows = 240_000  # 960 chunks, each committed with its checkpoint: the node dies long before the end
    scoring_input = scoring_table(world, rows)
    out = world["tmp"] / "scored-killed.parquet"
    run_id, job_id = score(world, runtime, scoring_input, out, chunk_rows=250)
    kill_the_node_running(world, job_id, "chunk ")
    job = finished(runtime, job_id)
    assert job.state == "succeeded", job.error
    assert "resuming it on another worker (retry 1)" in job.log and len(NODE.findall(job.log)) == 2
    assert job.result is not None and job.result["chunks_skipped"] > 0  # it went on after the chunks written
    assert job.result["chunks_scored"] + job.result["chunks_skipped"] == rows // 250
    with session_scope(runtime.sessions) as session:
        assert scoring_service.get_run(session, run_id=run_id).state == "succeeded"
    scored = pl.read_parquet(out)
    assert scored.height == rows  # exactly one prediction per input row
    source = pl.read_csv(scoring_input)
    assert scored.select(source.columns).equals(source)  # each row once, in order
