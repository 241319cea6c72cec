"""Jobs: long work recorded in the metadata DB (state, progress, logs) and run by an Executor.

A job is submitted only after the transaction that created it commits, so a worker never races the
row it is about to read. The local executor is a thread pool; the Ray executor (core/ray_executor.py) claims
each job here and runs the same handler in a Ray task.

Every queued or running job is owned by one process through a lease that the process's heartbeat renews.
A job whose lease expired belongs to a process that died (kill -9, power loss): `reclaim_expired_jobs`
fails it — after the domain's recovery hook for that job kind has cleaned up or marked its work resumable —
while jobs of live processes sharing the database are left alone.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, event, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from mlpilot.core.db import Base, rows_changed, session_scope, unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, MlpilotError, NotFound

if TYPE_CHECKING:
    from mlpilot.core.runtime import Runtime

log = logging.getLogger(__name__)


class JobState(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


FINISHED = (JobState.succeeded, JobState.failed)
ACTIVE = (JobState.queued, JobState.running)
LOG_LIMIT = 200_000
# This process, as a lease owner: host and pid name it for people, the nonce tells a reused pid apart.
PROCESS_OWNER = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
INTERRUPTED = "Interrupted: the server process running it stopped (crash or restart); run it again."
CANCELLED = "Cancelled"


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), index=True)
    state: Mapped[str] = mapped_column(String(20), default=JobState.queued, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(500), default="")
    log: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, index=True)


JobHandler = Callable[["JobContext", dict[str, Any]], dict[str, Any] | None]
_handlers: dict[str, JobHandler] = {}
_resumable: set[str] = set()


def job_handler(kind: str, *, resumable: bool = False) -> Callable[[JobHandler], JobHandler]:
    """Register the function that runs jobs of `kind`. `resumable`: running it again after the worker running it
    was lost continues the work without writing anything twice, so an executor that sees the loss (Ray) may
    retry it instead of failing the job."""

    def decorate(fn: JobHandler) -> JobHandler:
        _handlers[kind] = fn
        if resumable:
            _resumable.add(kind)
        return fn

    return decorate


InterruptHook = Callable[[Session, "Job"], None]
_interrupt_hooks: dict[str, InterruptHook] = {}


def on_job_interrupted(kind: str) -> Callable[[InterruptHook], InterruptHook]:
    """Register the one place a domain recovers the work of a failed `kind` job: called in the transaction that
    fails the job, whether its process died (restart, crash) or its handler raised, to fail the domain's
    records still marked active, remove partial output or mark the work resumable. It must only touch records
    still active, so a handler that settled them itself is left alone."""

    def decorate(fn: InterruptHook) -> InterruptHook:
        _interrupt_hooks[kind] = fn
        return fn

    return decorate


class Executor(Protocol):
    """Runs submitted jobs somewhere; the job row is the only thing passed."""

    def submit(self, job_id: int) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


class LocalExecutor:
    """Runs jobs on a thread pool in this process (native libraries release the GIL while they work)."""

    def __init__(self, runtime: Runtime, workers: int) -> None:
        from mlpilot.core.periodic import PeriodicTask

        self.runtime = runtime
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlpilot-job")
        # One loop renews the leases of every job this process owns and reclaims those of dead processes.
        self._heartbeat = PeriodicTask("job-heartbeat", self.beat, interval_s=runtime.settings.jobs.heartbeat_seconds)
        self._heartbeat.start()

    def beat(self) -> None:
        """Renew this process's leases, then fail or recover the jobs of processes whose leases expired."""
        with session_scope(self.runtime.sessions) as session:
            renew_leases(session, lease=lease_duration(self.runtime))
            reclaim_expired_jobs(session)

    def submit(self, job_id: int) -> None:
        self._pool.submit(run_job, self.runtime, job_id)

    def shutdown(self, wait: bool = True) -> None:
        self._heartbeat.stop()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


class QueueExecutor:
    """Runs nothing here: jobs stay queued in the database for `mlpilot worker` processes (core.workers) to claim.

    It still keeps the leases of the jobs this process queued alive, so a job waiting for a free worker is not
    taken for the job of a dead server; a worker that claims a job takes its lease over.
    """

    def __init__(self, runtime: Runtime) -> None:
        from mlpilot.core.periodic import PeriodicTask

        self.runtime = runtime
        self._heartbeat = PeriodicTask("job-heartbeat", self.beat, interval_s=runtime.settings.jobs.heartbeat_seconds)
        self._heartbeat.start()

    def beat(self) -> None:
        with session_scope(self.runtime.sessions) as session:
            renew_leases(session, lease=lease_duration(self.runtime))
            reclaim_expired_jobs(session)

    def submit(self, job_id: int) -> None:
        """Leave the job queued (a worker polls for it)."""

    def shutdown(self, wait: bool = True) -> None:
        self._heartbeat.stop()


def queued_job_ids(session: Session, *, limit: int) -> list[int]:
    """Return the oldest queued jobs' ids (claiming one is still a conditional update: see claim_job)."""
    stmt = select(Job.id).where(Job.state == JobState.queued).order_by(Job.id).limit(limit)
    return list(session.scalars(stmt))


@dataclass
class JobContext:
    """What a running job may use: the runtime, its id, and progress/log reporting."""

    runtime: Runtime
    job_id: int
    user_id: int | None
    project_id: int | None
    _last_write: float = 0.0

    def progress(self, fraction: float, message: str | None = None, *, force: bool = False) -> None:
        """Record progress (0..1); writes are throttled so tight loops stay cheap. Raises JobCancelled once the
        job is no longer running (cancelled, or failed by a reclaim), so the handler stops at its next report."""
        now = time.monotonic()
        if not force and now - self._last_write < 0.3 and fraction < 1.0:
            return
        self._last_write = now
        values: dict[str, Any] = {"progress": max(0.0, min(1.0, float(fraction)))}
        if message is not None:
            values["message"] = message[:500]
        with session_scope(self.runtime.sessions) as session, unit_of_work(session):
            still_running = rows_changed(session, update(Job).where(Job.id == self.job_id,
                                                                    Job.state == JobState.running).values(**values))
        if not still_running:
            raise JobCancelled(f"Job {self.job_id} was stopped while it ran.")

    def log(self, line: str) -> None:
        """Append a line to the job's log."""
        stamp = utcnow().strftime("%H:%M:%S")
        with session_scope(self.runtime.sessions) as session, unit_of_work(session):
            job = session.get(Job, self.job_id)
            if job is not None:
                job.log = (job.log + f"[{stamp}] {line}\n")[-LOG_LIMIT:]


class JobCancelled(Conflict):
    """Raised inside a handler whose job was cancelled or failed elsewhere: the handler stops, nothing more is
    recorded for the job (its row already says how it ended)."""


@dataclass(frozen=True)
class ClaimedJob:
    """What a runner needs of a job it claimed: the row's fields, read once in the claiming transaction."""

    job_id: int
    kind: str
    params: dict[str, Any]
    user_id: int | None
    project_id: int | None


def claim_job(runtime: Runtime, job_id: int) -> ClaimedJob | None:
    """Mark job `job_id` running and owned by this process; None when another runner has it (or it ended)."""
    with session_scope(runtime.sessions) as session:
        with unit_of_work(session):
            # A conditional UPDATE: however many runners are handed the job, exactly one claims it.
            # The log names the claiming process in the same statement: several processes may share the queue.
            claimed = rows_changed(session, update(Job).where(Job.id == job_id, Job.state == JobState.queued)
                                   .values(state=JobState.running, started_at=utcnow(), owner=PROCESS_OWNER,
                                           lease_expires_at=utcnow() + lease_duration(runtime),
                                           log=func.coalesce(Job.log, "") + f"started by {PROCESS_OWNER}\n"))
        if not claimed:
            return None
        job = session.get(Job, job_id)
        assert job is not None  # claimed above in this session
        return ClaimedJob(job_id, job.kind, dict(job.params), job.created_by_id, job.project_id)


def run_job(runtime: Runtime, job_id: int) -> None:
    """Execute one job to completion, recording the outcome whatever happens."""
    claimed = claim_job(runtime, job_id)
    if claimed is not None:
        run_claimed(runtime, claimed, _handlers.get(claimed.kind))


def run_claimed(runtime: Runtime, job: ClaimedJob, handler: JobHandler | None) -> None:
    """Run the handler of a job this process (or the runner that handed it over) claimed; record the outcome."""
    job_id, kind = job.job_id, job.kind
    ctx = JobContext(runtime=runtime, job_id=job_id, user_id=job.user_id, project_id=job.project_id)
    try:
        if handler is None:
            raise InvalidInput(f"No handler for job kind {kind!r}.")
        result = handler(ctx, job.params) or {}
        finish_job(runtime, job_id, kind, JobState.succeeded, result=result, message="done")
    except JobCancelled:
        log.info("job %s (%s) stopped: it no longer runs", job_id, kind)
    except MlpilotError as exc:
        ctx.log(f"failed: {exc.detail}")
        finish_job(runtime, job_id, kind, JobState.failed, error=exc.detail, message=exc.detail)
    except Exception as exc:
        log.exception("job %s (%s) crashed", job_id, kind)
        ctx.log(traceback.format_exc())
        detail = f"{type(exc).__name__}: {exc}"
        finish_job(runtime, job_id, kind, JobState.failed, error=detail, message=detail)


def is_resumable(kind: str) -> bool:
    """Whether jobs of `kind` were registered as resumable."""
    return kind in _resumable


def handler_for(kind: str) -> JobHandler | None:
    """The registered handler of `kind` (the Ray executor ships it to the worker that runs the job)."""
    return _handlers.get(kind)


FinishListener = Callable[[Session, "Job"], None]
_finish_listeners: list[FinishListener] = []


def on_job_finished(listener: FinishListener) -> FinishListener:
    """Call `listener(session, job)` in the transaction that records a job's end (core cannot import domains,
    so e.g. notifications subscribe here to publish `job.finished`). Registering twice is harmless."""
    if listener not in _finish_listeners:
        _finish_listeners.append(listener)
    return listener


def finish_job(runtime: Runtime, job_id: int, kind: str, state: JobState, *, result: dict | None = None,
               error: str | None = None, message: str = "") -> bool:
    """Record the end of a running job (and run its recovery hook when it failed); False, and nothing written,
    when the job no longer runs — cancelled, reclaimed or already finished by another hand."""
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "message": message[:500]}
        if state == JobState.succeeded:
            values.update(progress=1.0, result=result)
        else:
            values["error"] = error
        # Only a running job ends here, so a late or second runner never overwrites how it ended.
        if not rows_changed(session, update(Job).where(Job.id == job_id, Job.state == JobState.running)
                            .values(**values)):
            return False
        _after_finish(session, job_id, kind, state)
    return True


def _after_finish(session: Session, job_id: int, kind: str, state: JobState) -> None:
    hook = _interrupt_hooks.get(kind) if state == JobState.failed else None
    if not _finish_listeners and hook is None:
        return
    job = session.execute(select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
                          ).scalar_one()
    if hook is not None:
        # The handler may have failed before it settled its domain's records (e.g. its session broke).
        with session.begin_nested():
            hook(session, job)
    for listener in list(_finish_listeners):
        # A listener's failure must never leave the job looking unfinished: it is undone on its own.
        try:
            with session.begin_nested():
                listener(session, job)
        except Exception:
            log.exception("a job-finished listener failed for job %s", job_id)


_PENDING_KEY = "mlpilot_pending_jobs"


def create_job(session: Session, *, runtime: Runtime, kind: str, params: dict[str, Any],
               user_id: int | None = None, project_id: int | None = None, message: str = "queued") -> Job:
    """Record a job and submit it to the executor once the surrounding transaction commits."""
    if kind not in _handlers:
        raise InvalidInput(f"Unknown job kind {kind!r}.")
    with unit_of_work(session):
        job = Job(kind=kind, params=params, created_by_id=user_id, project_id=project_id, message=message,
                  state=JobState.queued, owner=PROCESS_OWNER, lease_expires_at=utcnow() + lease_duration(runtime))
        session.add(job)
        session.flush()
        session.info.setdefault(_PENDING_KEY, []).append((runtime, job.id))
    return job


@event.listens_for(Session, "after_commit")
def _submit_pending(session: Session) -> None:
    for runtime, job_id in session.info.pop(_PENDING_KEY, []):
        if runtime.executor is None:
            # A runtime without an executor (a CLI or test process) leaves the job queued for one that has one.
            log.warning("job %s stays queued: this process runs no executor", job_id)
            continue
        runtime.executor.submit(job_id)


@event.listens_for(Session, "after_rollback")
def _discard_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def get_job(session: Session, *, job_id: int) -> Job:
    """Return job `job_id`."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} does not exist.")
    return job


def cancel_job(session: Session, *, job_id: int) -> Job:
    """Stop job `job_id`: it is failed as cancelled (with its kind's recovery hook) whichever runner holds it; a
    running handler stops at its next progress report. Cancelling a finished job is refused."""
    job = get_job(session, job_id=job_id)
    with unit_of_work(session):
        stopped = rows_changed(session, update(Job).where(Job.id == job_id, Job.state.in_(list(ACTIVE)))
                               .values(state=JobState.failed, error=CANCELLED, message="cancelled",
                                       finished_at=utcnow(), lease_expires_at=None))
        if not stopped:
            raise Conflict(f"Job {job_id} already finished ({job.state}).")
        _after_finish(session, job_id, job.kind, JobState.failed)
    session.refresh(job)
    return job


def list_jobs(session: Session, *, project_id: int | None = None, project_ids: list[int] | None = None,
              limit: int = 50) -> list[Job]:
    """Return the newest jobs, optionally of one project or of several."""
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if project_id is not None:
        stmt = stmt.where(Job.project_id == project_id)
    if project_ids is not None:
        stmt = stmt.where(Job.project_id.in_(project_ids))
    return list(session.scalars(stmt))


def lease_duration(runtime: Runtime) -> dt.timedelta:
    """How long a claimed job stays owned without a renewal."""
    return dt.timedelta(seconds=runtime.settings.jobs.lease_seconds)


def renew_leases(session: Session, *, lease: dt.timedelta, owner: str = PROCESS_OWNER) -> int:
    """Extend the leases of the unfinished jobs `owner` holds; return how many."""
    with unit_of_work(session):
        return rows_changed(session, update(Job).where(Job.owner == owner, Job.state.in_(list(ACTIVE)))
                            .values(lease_expires_at=utcnow() + lease))


def reclaim_expired_jobs(session: Session) -> int:
    """Fail the unfinished jobs whose owner stopped renewing their lease, after their domain's recovery hook;
    return how many. Jobs of live processes (leases still valid) are not touched."""
    now = utcnow()
    count = 0
    with unit_of_work(session):
        stale = session.scalars(select(Job).where(Job.state.in_(list(ACTIVE)),
                                                  (Job.lease_expires_at < now) | Job.lease_expires_at.is_(None))
                                .with_for_update(skip_locked=True))
        for job in stale:
            job.state, job.error, job.message = JobState.failed, INTERRUPTED, "interrupted"
            job.finished_at, job.lease_expires_at = now, None
            hook = _interrupt_hooks.get(job.kind)
            if hook is not None:
                with session.begin_nested():
                    hook(session, job)
            count += 1
    if count:
        log.warning("reclaimed %d job(s) whose process stopped", count)
    return count


def wait_for_job(runtime: Runtime, job_id: int, *, timeout: float = 600.0, poll: float = 0.1) -> Job:
    """Block until job `job_id` finishes and return it (for CLI commands, the demo and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(runtime.sessions) as session:
            job = get_job(session, job_id=job_id)
            if job.state in FINISHED:
                return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"Job {job_id} did not finish within {timeout:.0f} s.")
        time.sleep(poll)


