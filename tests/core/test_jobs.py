"""Jobs run on the local executor, record progress/logs/outcome, and never stay 'running' after a restart."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mlpilot.core import jobs
from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.errors import Conflict, InvalidInput
from mlpilot.core.runtime import Runtime
from tests.conftest import expire_job_leases

release = threading.Event()


@jobs.job_handler("test.count")
def _count(ctx: jobs.JobContext, params: dict[str, Any]) -> dict[str, Any]:
    for i in range(params["n"]):
        ctx.progress((i + 1) / params["n"], f"step {i + 1}", force=True)
    ctx.log("counted")
    return {"total": params["n"]}


@jobs.job_handler("test.fail")
def _fail(ctx: jobs.JobContext, params: dict[str, Any]) -> None:
    if params.get("domain"):
        raise InvalidInput("column 'x' is missing")
    raise ZeroDivisionError("division by zero")


recovered: list[tuple[str, str, str | None]] = []


@jobs.job_handler("test.maybe")
def _maybe(ctx: jobs.JobContext, params: dict[str, Any]) -> None:
    if params.get("crash"):
        raise RuntimeError("session lost before the domain settled its records")


@jobs.on_job_interrupted("test.maybe")
def _recover_maybe(session: Any, job: jobs.Job) -> None:
    recovered.append((job.params["token"], job.state, job.error))


@jobs.job_handler("test.block")
def _block(ctx: jobs.JobContext, params: dict[str, Any]) -> None:
    release.wait(10)


stopped: list[int] = []
go_on = threading.Event()


@jobs.job_handler("test.until_stopped")
def _until_stopped(ctx: jobs.JobContext, params: dict[str, Any]) -> None:
    try:
        while True:
            ctx.progress(0.5, "working", force=True)
            go_on.wait(0.05)
    except jobs.JobCancelled:
        stopped.append(ctx.job_id)
        raise


@pytest.fixture
def job_runtime(live_runtime: Runtime) -> Iterator[Runtime]:
    yield live_runtime
    release.set()


def _start(runtime: Runtime, kind: str, params: dict[str, Any]) -> int:
    with session_scope(runtime.sessions) as session:
        return jobs.create_job(session, runtime=runtime, kind=kind, params=params).id
        # create_job runs its own outermost unit, so the job is committed and submitted here


def test_job_succeeds_with_progress_log_and_result(job_runtime: Runtime) -> None:
    job = jobs.wait_for_job(job_runtime, _start(job_runtime, "test.count", {"n": 3}), timeout=30)
    assert job.state == "succeeded"
    assert job.progress == 1.0
    assert job.result == {"total": 3}
    assert "counted" in job.log
    assert job.started_at is not None and job.finished_at >= job.started_at


def test_crash_is_recorded_with_type_and_traceback(job_runtime: Runtime) -> None:
    job = jobs.wait_for_job(job_runtime, _start(job_runtime, "test.fail", {}), timeout=30)
    assert job.state == "failed"
    assert job.error == "ZeroDivisionError: division by zero"
    assert "Traceback" in job.log


def test_domain_error_message_is_kept_verbatim(job_runtime: Runtime) -> None:
    job = jobs.wait_for_job(job_runtime, _start(job_runtime, "test.fail", {"domain": True}), timeout=30)
    assert job.state == "failed" and job.error == "column 'x' is missing"


def test_the_domain_recovery_hook_runs_once_for_a_failed_job_and_never_for_a_succeeded_one(
        job_runtime: Runtime) -> None:
    # Job ids restart per database, so this test's jobs are told apart by a token of their own.
    token = uuid.uuid4().hex
    ok = jobs.wait_for_job(job_runtime, _start(job_runtime, "test.maybe", {"token": f"{token}-ok"}), timeout=30)
    crashed = jobs.wait_for_job(job_runtime, _start(job_runtime, "test.maybe", {"token": f"{token}-crash",
                                                                               "crash": True}), timeout=30)
    assert ok.state == "succeeded" and crashed.state == "failed"
    mine = [entry for entry in recovered if entry[0].startswith(token)]
    assert mine == [(f"{token}-crash", "failed", "RuntimeError: session lost before the domain settled its records")]


def test_job_in_rolled_back_transaction_is_never_submitted(job_runtime: Runtime) -> None:
    with session_scope(job_runtime.sessions) as session:
        with pytest.raises(RuntimeError), unit_of_work(session):
            jobs.create_job(session, runtime=job_runtime, kind="test.count", params={"n": 1})
            raise RuntimeError("the use case failed after creating its job")
        assert jobs.list_jobs(session) == []


def test_unknown_kind_is_rejected(job_runtime: Runtime) -> None:
    with session_scope(job_runtime.sessions) as session, pytest.raises(InvalidInput, match="Unknown job kind"):
        jobs.create_job(session, runtime=job_runtime, kind="nope", params={})


def test_restart_marks_interrupted_jobs_failed(job_runtime: Runtime) -> None:
    release.clear()
    running_id = _start(job_runtime, "test.block", {})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with session_scope(job_runtime.sessions) as session:
            if jobs.get_job(session, job_id=running_id).state == "running":
                break
        time.sleep(0.05)
    with session_scope(job_runtime.sessions) as session:
        # A queued job that no executor will pick up, as after a crash.
        with unit_of_work(session):
            session.add(jobs.Job(kind="test.count", params={"n": 1}, state=jobs.JobState.queued))
    # Another process on the same database while this one lives: its running job keeps its lease.
    with session_scope(job_runtime.sessions) as session:
        assert jobs.reclaim_expired_jobs(session) == 1  # only the lease-less orphan
        assert jobs.get_job(session, job_id=running_id).state == "running"
        assert jobs.get_job(session, job_id=running_id).owner == jobs.PROCESS_OWNER
    # This process stops renewing (as after kill -9): once the lease expires the job is reclaimed.
    expire_job_leases(job_runtime)
    with session_scope(job_runtime.sessions) as session:
        assert jobs.reclaim_expired_jobs(session) == 1
    with session_scope(job_runtime.sessions) as session:
        states = {j.id: (j.state, j.error) for j in jobs.list_jobs(session)}
    assert states[running_id][0] == "failed"
    assert all(state == "failed" and "crash or restart" in error for state, error in states.values())
    release.set()


def test_the_heartbeat_renews_leases_of_live_jobs(job_runtime: Runtime) -> None:
    release.clear()
    running_id = _start(job_runtime, "test.block", {})
    try:
        with session_scope(job_runtime.sessions) as session:
            first = jobs.get_job(session, job_id=running_id).lease_expires_at
        time.sleep(0.05)
        job_runtime.executor.beat()
        with session_scope(job_runtime.sessions) as session:
            job = jobs.get_job(session, job_id=running_id)
            assert job.state in ("queued", "running") and job.lease_expires_at > first
    finally:
        release.set()


def test_cancelling_a_running_job_stops_its_handler_and_keeps_the_cancelled_outcome(job_runtime: Runtime) -> None:
    token = uuid.uuid4().hex
    job_id = _start(job_runtime, "test.until_stopped", {})
    maybe_id = _start(job_runtime, "test.maybe", {"token": f"{token}-cancel"})
    jobs.wait_for_job(job_runtime, maybe_id, timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with session_scope(job_runtime.sessions) as session:
            if jobs.get_job(session, job_id=job_id).progress > 0:
                break
        time.sleep(0.02)
    with session_scope(job_runtime.sessions) as session:
        job = jobs.cancel_job(session, job_id=job_id)
        assert job.state == "failed" and job.error == jobs.CANCELLED and job.finished_at is not None
    while job_id not in stopped and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job_id in stopped  # it noticed at its next progress report
    with session_scope(job_runtime.sessions) as session:
        job = jobs.get_job(session, job_id=job_id)
        assert job.state == "failed" and job.error == jobs.CANCELLED  # its runner did not overwrite the end
        with pytest.raises(Conflict, match="already finished"):
            jobs.cancel_job(session, job_id=job_id)
        with pytest.raises(Conflict, match="already finished"):
            jobs.cancel_job(session, job_id=maybe_id)


def test_cancelling_a_queued_job_runs_its_recovery_hook_and_it_never_starts(job_runtime: Runtime) -> None:
    token = uuid.uuid4().hex
    with session_scope(job_runtime.sessions) as session:
        with unit_of_work(session):  # queued, with no executor told: as if waiting for a free worker
            job = jobs.Job(kind="test.maybe", params={"token": f"{token}-queued"}, state=jobs.JobState.queued)
            session.add(job)
        job = jobs.cancel_job(session, job_id=job.id)
        assert job.state == "failed" and job.error == jobs.CANCELLED
    assert [entry for entry in recovered if entry[0].startswith(token)] == [(f"{token}-queued", "failed",
                                                                             jobs.CANCELLED)]
    jobs.run_job(job_runtime, job.id)  # a runner handed it late does not claim it
    with session_scope(job_runtime.sessions) as session:
        assert jobs.get_job(session, job_id=job.id).started_at is None
