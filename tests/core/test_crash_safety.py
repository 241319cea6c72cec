"""kill -9 in the middle of every job kind: the job is reclaimed once its lease runs out, nothing half-made is
listed, and the next run of that kind works.

Each job runs in a child process that SIGKILLs itself at a progress report inside the work (deterministic: no
sleeping and hoping). The parent then plays the surviving process: its reclaim sees the expired lease.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.feeder import service as feeder_service
from mlpilot.recipes import service as recipes_service
from mlpilot.reports import service as reports_service
from mlpilot.risks import service as risks_service
from mlpilot.scoring import service as scoring_service
from mlpilot.scoring.specs import parse_output, parse_source
from mlpilot.training import service as training_service
from tests.conftest import DatabaseFactory, expire_job_leases, make_settings
from tests.datasets.factories import make_version, synthetic_frame
from tests.projects.factories import make_project, make_user

CHILD = """
import os, signal, sys
from mlpilot.core import jobs
from mlpilot.core.runtime import Runtime
from mlpilot.settings import Settings
from mlpilot.metadata import load_services
load_services()  # every domain's job handlers and interrupt hooks

kill_at = int(sys.argv[2])
calls = []
real_progress = jobs.JobContext.progress

def dying_progress(self, fraction, message=None, *, force=False):
    calls.append(fraction)
    real_progress(self, fraction, message, force=True)
    if len(calls) >= kill_at:
        print("killing", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

jobs.JobContext.progress = dying_progress
runtime = Runtime.from_settings(Settings())
jobs.run_job(runtime, int(sys.argv[1]))
print("finished", flush=True)
"""


class HeldExecutor:
    """Takes jobs without running them: the child process claims and runs each one instead."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, job_id: int) -> None:
        self.submitted.append(job_id)

    def shutdown(self, wait: bool = True) -> None:
        pass


@pytest.fixture(scope="module")
def crash_world(tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("crash")
    settings = make_settings(tmp, databases.new_url("sqlite"), jobs={"lease_seconds": 60, "heartbeat_seconds": 60})
    runtime = Runtime.from_settings(settings)
    from mlpilot.app import prepare_runtime

    prepare_runtime(runtime)
    runtime.start_executor()
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        version_id = make_version(session, runtime, project_id=project.id, user_id=user.id,
                                  frame=synthetic_frame("binary", rows=400))
        ids = {"user_id": user.id, "project_id": project.id, "version_id": version_id}
    env = {**os.environ, "MLPILOT_DATABASE_URL": settings.database_url_resolved,
           "MLPILOT_DATA_DIR": str(settings.data_dir),
           "MLPILOT_SOURCES__ROOTS": json.dumps([str(r) for r in settings.sources.roots]),
           "MLPILOT_SOURCES__HOSTS": json.dumps(settings.sources.hosts)}
    script = tmp / "child.py"
    script.write_text(CHILD)
    yield {"runtime": runtime, "env": env, "script": script, "tmp": tmp, **ids}
    runtime.close()


def crash(world: dict[str, Any], make_job: Callable[[Runtime], int], *, kill_at: int = 2) -> int:
    """Create a job with `make_job(runtime)`, run it in a child killed inside the work; return the job id."""
    runtime: Runtime = world["runtime"]
    live = runtime.executor
    runtime.executor = HeldExecutor()
    try:
        job_id = make_job(runtime)
    finally:
        runtime.executor = live
    child = subprocess.run([sys.executable, str(world["script"]), str(job_id), str(kill_at)], env=world["env"],
                           cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=180)
    if child.returncode != -signal.SIGKILL:
        with session_scope(runtime.sessions) as session:
            job = jobs.get_job(session, job_id=job_id)
            pytest.fail(f"the child was not killed: job {job.state}: {job.error}\n{child.stdout}{child.stderr}")
    assert "killing" in child.stdout and "finished" not in child.stdout
    with session_scope(runtime.sessions) as session:
        job = jobs.get_job(session, job_id=job_id)
        assert job.state == "running" and job.owner != jobs.PROCESS_OWNER  # the dead child held it
        assert jobs.reclaim_expired_jobs(session) == 0  # its lease is still running: not taken early
    expire_job_leases(runtime)
    with session_scope(runtime.sessions) as session:
        assert jobs.reclaim_expired_jobs(session) == 1
        job = jobs.get_job(session, job_id=job_id)
        assert job.state == "failed" and "crash or restart" in job.error
    return job_id


def test_profiling(crash_world: dict[str, Any]) -> None:
    w = crash_world

    def start(runtime: Runtime) -> int:
        with session_scope(runtime.sessions) as session:
            frame = synthetic_frame("binary", rows=300, seed=9)
            version, job_id = datasets_service.create_dataset_version(
                session, runtime=runtime, project_id=w["project_id"], name="crash-profile", filename="p.csv",
                data=frame.write_csv().encode(), user_id=w["user_id"])
            w["profiled"] = version.id
            return job_id

    crash(w, start)
    runtime = w["runtime"]
    with session_scope(runtime.sessions) as session:
        # The version's data was complete before profiling began, so it stays listed — with no profile.
        assert datasets_service.find_dataset_profile(session, version_id=w["profiled"]) is None
    with session_scope(runtime.sessions) as session:  # profiling it again works
        profile = datasets_service.compute_dataset_profile(session, store=runtime.store, version_id=w["profiled"])
        assert profile.profile["rows"] == 300


def test_recipe_apply(crash_world: dict[str, Any]) -> None:
    w = crash_world
    with session_scope(w["runtime"].sessions) as session:
        recipe = recipes_service.create_recipe(session, project_id=w["project_id"], name="crash-recipe",
                                               steps=[{"op": "duplicates"}], user_id=w["user_id"])
        recipe_version_id = recipes_service.find_recipe_version(session, recipe_id=recipe.id).id

    def start(runtime: Runtime) -> int:
        with session_scope(runtime.sessions) as session:
            return recipes_service.run_recipe(session, runtime=runtime, recipe_version_id=recipe_version_id,
                                              dataset_version_id=w["version_id"], output_name="cleaned",
                                              user_id=w["user_id"]).id

    crash(w, start, kill_at=1)
    runtime = w["runtime"]
    with session_scope(runtime.sessions) as session:
        names = [d.name for d in datasets_service.list_datasets(session, project_id=w["project_id"])]
        assert "cleaned" not in names  # no half-written version is listed
        job_id = recipes_service.run_recipe(session, runtime=runtime, recipe_version_id=recipe_version_id,
                                            dataset_version_id=w["version_id"], output_name="cleaned",
                                            user_id=w["user_id"]).id
    assert jobs.wait_for_job(runtime, job_id, timeout=120).state == "succeeded"


def test_training(crash_world: dict[str, Any]) -> None:
    w = crash_world

    def start(runtime: Runtime) -> int:
        with session_scope(runtime.sessions) as session:
            run = training_service.create_run(session, runtime=runtime, project_id=w["project_id"],
                                              dataset_version_id=w["version_id"], target="y", engine="lightgbm",
                                              time_budget_s=5, user_id=w["user_id"])
            w["run_id"] = run.id
            return run.job_id

    crash(w, start)
    runtime = w["runtime"]
    with session_scope(runtime.sessions) as session:
        [listed] = [r for r in training_service.list_runs(session, project_id=w["project_id"]) if r.id == w["run_id"]]
        assert listed.status == "failed"
        again = training_service.create_run(session, runtime=runtime, project_id=w["project_id"],
                                            dataset_version_id=w["version_id"], target="y", engine="lightgbm",
                                            time_budget_s=5, user_id=w["user_id"])
    assert jobs.wait_for_job(runtime, again.job_id, timeout=180).state == "succeeded"


def test_batch_scoring_resumes(crash_world: dict[str, Any]) -> None:
    w = crash_world
    from tests.dataplane.factories import make_churn_model

    model_dir = make_churn_model(w["tmp"] / "model")
    source = w["tmp"] / "score-in.csv"
    frame = pl.DataFrame({"tenure": [float(i % 60) for i in range(3000)], "charges": [70.0] * 3000,
                          "plan": ["basic"] * 3000, "paperless": [True] * 3000})
    frame.write_csv(source)
    out = w["tmp"] / "scored.parquet"

    def start(runtime: Runtime) -> int:
        with session_scope(runtime.sessions) as session:
            run = scoring_service.create_run(session, guard=runtime.allowlist,
                                             source=parse_source({"kind": "file", "path": str(source)}),
                                             output=parse_output({"kind": "file", "path": str(out)}),
                                             model_path=str(model_dir), chunk_rows=500, project_id=w["project_id"])
            w["scoring_run"] = run.id
            return scoring_service.submit_run(session, runtime=runtime, run_id=run.id).job_id

    crash(w, start, kill_at=3)
    runtime = w["runtime"]
    with session_scope(runtime.sessions) as session:
        run = scoring_service.get_run(session, run_id=w["scoring_run"])
        assert run.state == "failed" and "resume" in run.error and not out.exists()
    result = scoring_service.execute_run(runtime, w["scoring_run"])
    assert result.rows == 3000 and pl.read_parquet(out).height == 3000


def test_report_rendering(crash_world: dict[str, Any]) -> None:
    w = crash_world
    from mlpilot.accounts import service as accounts_service

    def start(runtime: Runtime) -> int:
        with session_scope(runtime.sessions) as session:
            admin = accounts_service.find_user_by_username(session, username="admin")
            return reports_service.request_report(session, runtime=runtime, project_id=w["project_id"],
                                                  user=admin).id

    crash(w, start)
    runtime = w["runtime"]
    with session_scope(runtime.sessions) as session:
        assert reports_service.list_reports(session, project_id=w["project_id"]) == []
        admin = accounts_service.find_user_by_username(session, username="admin")
        job_id = reports_service.request_report(session, runtime=runtime, project_id=w["project_id"], user=admin).id
    assert jobs.wait_for_job(runtime, job_id, timeout=120).state == "succeeded"


def test_feeder_run(crash_world: dict[str, Any]) -> None:
    w = crash_world
    from mlpilot.connections import service as connections

    csv = w["tmp"] / "feed.csv"
    synthetic_frame("binary", rows=200, seed=4).write_csv(csv)
    with session_scope(w["runtime"].sessions) as session:
        connection = connections.create_connection(session, runtime=w["runtime"], project_id=w["project_id"],
                                                   name="feed", kind="file", settings={"path": str(csv)})
        pipeline = feeder_service.create_pipeline(session, project_id=w["project_id"], name="feed",
                                                  connection_id=connection.id, dataset_name="fed", mode="replace",
                                                  user_id=w["user_id"])
        pipeline_id = pipeline.id

    def start(runtime: Runtime) -> int:
        with session_scope(runtime.sessions) as session:
            run = feeder_service.start_pipeline_run(session, runtime=runtime, pipeline_id=pipeline_id, user_id=None)
            w["feed_run"] = run.id
            return run.job_id

    crash(w, start, kill_at=1)
    runtime = w["runtime"]
    with session_scope(runtime.sessions) as session:
        failed = feeder_service.get_pipeline_run(session, run_id=w["feed_run"])
        assert failed.status == "failed" and "crash or restart" in failed.error
        assert "fed" not in [d.name for d in datasets_service.list_datasets(session, project_id=w["project_id"])]
        again = feeder_service.start_pipeline_run(session, runtime=runtime, pipeline_id=pipeline_id, user_id=None)
    assert jobs.wait_for_job(runtime, again.job_id, timeout=120).state == "succeeded"


def test_risk_scan(crash_world: dict[str, Any]) -> None:
    w = crash_world
    from mlpilot.accounts import service as accounts_service
    from mlpilot.risks.schemas import RiskPlanUpdate

    with session_scope(w["runtime"].sessions) as session:
        admin = accounts_service.find_user_by_username(session, username="admin")
        # 400 rows against a plan of 1,000: the scan has a risk to raise.
        risks_service.update_plan(session, project_id=w["project_id"], user=admin,
                                  changes=RiskPlanUpdate(dataset_name="data", min_rows=1000))

    def start(runtime: Runtime) -> int:
        with session_scope(runtime.sessions) as session:
            return risks_service.request_scan(session, runtime=runtime, project_id=w["project_id"], user=None).id

    crash(w, start, kill_at=4)  # killed among the detectors, before the register is touched
    runtime = w["runtime"]
    with session_scope(runtime.sessions) as session:
        assert risks_service.list_risks(session, project_id=w["project_id"]) == []
        job_id = risks_service.request_scan(session, runtime=runtime, project_id=w["project_id"], user=None).id
    assert jobs.wait_for_job(runtime, job_id, timeout=120).state == "succeeded"
    with session_scope(runtime.sessions) as session:
        risks = risks_service.list_risks(session, project_id=w["project_id"])
        assert "data_rows_short" in {r.source for r in risks}
