"""The Ray executor: each job this process claims runs as a Ray task that calls the same handler on a cluster node.

The job row in the metadata database is the only channel. This process (the driver) claims the job, as the local
executor does, and renews its lease; the task opens its own database sessions and store from the settings it is
sent and records progress, logs and the outcome itself. Data moves through the shared store: nothing but the
settings, the claimed row and the handler's name passes through the driver.

A task whose worker process or node dies comes back here as a Ray error: the job is failed with the reason (and
its kind's recovery hook runs), unless the worker had recorded the end already — `finish_job` only ends a running
job, so nothing is written twice. A cancelled job stops at its handler's next progress report; one that does not
report is interrupted through Ray. If this process dies, Ray stops its tasks and the expired leases let another
process reclaim the jobs, exactly as for the local executor.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput, Unavailable
from mlpilot.core.periodic import PeriodicTask

if TYPE_CHECKING:
    from mlpilot.core.runtime import Runtime
    from mlpilot.settings import Settings

log = logging.getLogger(__name__)

LOST = "Interrupted: the Ray worker running it was lost ({reason}); run it again."
LOST_RETRIES = 2  # times a resumable job is run again after its worker was lost, before it fails
PROBE_TIMEOUT_S = 5.0
WORKER_RUNTIMES = 4  # runtimes (database engines) one Ray worker keeps for the installations it serves


def connect(address: str | None) -> bool:
    """Connect this process to the Ray cluster at `address`; True when this call made the connection (so the
    executor closes it), False when the process was already connected to that cluster."""
    try:
        import ray
    except ImportError as exc:
        raise InvalidInput("MLPILOT_JOBS__EXECUTOR=ray needs Ray: pip install 'mlpilot[ray]'.") from exc
    if not address:
        raise InvalidInput("MLPILOT_JOBS__RAY_ADDRESS must name the Ray cluster (host:port of its head node, or "
                           "'auto' for the cluster started on this machine) when MLPILOT_JOBS__EXECUTOR=ray.")
    if ray.is_initialized():
        current = ray.get_runtime_context().gcs_address
        if address == "auto" or _port(current) == _port(address):
            return False
        raise InvalidInput(f"This process is already connected to the Ray cluster at {current}, not {address}.")
    if address != "auto":
        _probe(address)
    try:
        ray.init(address=address, namespace="mlpilot", log_to_driver=False, logging_level=logging.WARNING)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError or its own types here
        raise Unavailable(f"Cannot connect to the Ray cluster at {address}: {exc}") from exc
    return True


def _port(address: str) -> str:
    return address.rsplit(":", 1)[-1]


def _probe(address: str) -> None:
    """Fail fast when nothing listens at `address` (ray.init itself retries for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInput(f"MLPILOT_JOBS__RAY_ADDRESS {address!r} is not host:port.")
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        raise Unavailable(f"The Ray cluster at {address} is unreachable ({exc}); start it (ray start --head) or "
                          "fix MLPILOT_JOBS__RAY_ADDRESS.") from exc


class RayExecutor:
    """Claims jobs here and runs each in a Ray task; one watcher thread turns lost tasks into failed jobs."""

    def __init__(self, runtime: Runtime) -> None:
        import ray

        self.runtime = runtime
        self._owns_connection = connect(runtime.settings.jobs.ray_address)
        # Relative paths would resolve against each worker's own directory.
        self._settings = runtime.settings.model_copy(update={"data_dir": runtime.settings.data_dir.resolve()})
        self._task = ray.remote(num_cpus=1, max_retries=0)(run_on_worker)
        self._lock = threading.Lock()
        self._inflight: dict[Any, jobs.ClaimedJob] = {}  # ObjectRef -> the job it runs
        self._stopped_since: dict[int, float] = {}
        self._retries: dict[int, int] = {}
        self._closing = threading.Event()
        self._dispatch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlpilot-ray-dispatch")
        self._watcher = threading.Thread(target=self._watch, name="mlpilot-ray-watch", daemon=True)
        self._watcher.start()
        self._heartbeat = PeriodicTask("job-heartbeat", self.beat, interval_s=runtime.settings.jobs.heartbeat_seconds)
        self._heartbeat.start()

    def submit(self, job_id: int) -> None:
        # Off the caller's thread: submit runs right after a request's commit.
        self._dispatch.submit(self._start, job_id)

    def _start(self, job_id: int) -> None:
        claimed = jobs.claim_job(self.runtime, job_id)
        if claimed is not None:
            self._launch(claimed)

    def _launch(self, claimed: jobs.ClaimedJob) -> None:
        try:
            ref = self._task.remote(self._settings, jobs.PROCESS_OWNER, claimed, jobs.handler_for(claimed.kind))
        except Exception as exc:  # the connection to the cluster broke
            self._lost(claimed, exc)
            return
        with self._lock:
            self._inflight[ref] = claimed

    def _watch(self) -> None:
        import ray

        while not self._closing.is_set():
            with self._lock:
                refs = list(self._inflight)
            if not refs:
                self._closing.wait(0.2)
                continue
            try:
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0.5)
            except Exception:
                log.exception("waiting on Ray tasks failed")
                self._closing.wait(1.0)
                continue
            for ref in ready:
                with self._lock:
                    claimed = self._inflight.pop(ref)
                try:
                    created: list[int] = ray.get(ref)
                except Exception as exc:  # the task's own errors are recorded by the task: this is Ray's
                    self._lost(claimed, exc)
                    continue
                self._retries.pop(claimed.job_id, None)
                for job_id in created:  # jobs its handler created (e.g. profiling a written dataset)
                    self.submit(job_id)

    def _lost(self, claimed: jobs.ClaimedJob, exc: BaseException) -> None:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if self._retry(claimed, f"{type(exc).__name__}: {reason}"):
            return
        self._retries.pop(claimed.job_id, None)
        if jobs.finish_job(self.runtime, claimed.job_id, claimed.kind, jobs.JobState.failed,
                           error=LOST.format(reason=f"{type(exc).__name__}: {reason}"), message="worker lost"):
            log.warning("job %s (%s) failed: its Ray task was lost: %s", claimed.job_id, claimed.kind, reason)

    def _retry(self, claimed: jobs.ClaimedJob, reason: str) -> bool:
        """Run a resumable job again on another worker (still claimed by this process); False when it may not."""
        tries = self._retries.get(claimed.job_id, 0)
        if not jobs.is_resumable(claimed.kind) or tries >= LOST_RETRIES or self._closing.is_set():
            return False
        with session_scope(self.runtime.sessions) as session:
            job = session.get(jobs.Job, claimed.job_id)
            if job is None or job.state != jobs.JobState.running:  # it ended (or was cancelled) meanwhile
                return False
        try:
            self._dispatch.submit(self._launch, claimed)
        except RuntimeError:  # this executor is shutting down
            return False
        self._retries[claimed.job_id] = tries + 1
        jobs.JobContext(runtime=self.runtime, job_id=claimed.job_id, user_id=claimed.user_id,
                        project_id=claimed.project_id).log(f"the Ray worker running it was lost ({reason}); "
                                                           f"resuming it on another worker (retry {tries + 1})")
        return True

    def beat(self) -> None:
        """Renew this process's leases, reclaim those of dead processes and interrupt the tasks whose job was
        cancelled but did not stop."""
        lease = dt.timedelta(seconds=self.runtime.settings.jobs.lease_seconds)
        with session_scope(self.runtime.sessions) as session:
            jobs.renew_leases(session, lease=lease)
            jobs.reclaim_expired_jobs(session)
            with self._lock:
                inflight = {claimed.job_id: ref for ref, claimed in self._inflight.items()}
            stopped = session.scalars(select(jobs.Job.id).where(jobs.Job.id.in_(list(inflight)),
                                                                jobs.Job.state != jobs.JobState.running)).all()
        self._interrupt_stopped({job_id: inflight[job_id] for job_id in stopped})

    def _interrupt_stopped(self, stopped: dict[int, Any]) -> None:
        import ray

        now = time.monotonic()
        grace = 2 * self.runtime.settings.jobs.heartbeat_seconds
        for job_id, ref in stopped.items():
            since = self._stopped_since.setdefault(job_id, now)
            if now - since >= grace:  # its handler had time to notice at a progress report, and did not
                ray.cancel(ref, force=False)
        self._stopped_since = {job_id: t for job_id, t in self._stopped_since.items() if job_id in stopped}

    def shutdown(self, wait: bool = True) -> None:
        import ray

        self._heartbeat.stop()
        self._dispatch.shutdown(wait=wait, cancel_futures=not wait)
        if wait:
            with self._lock:
                refs = list(self._inflight)
            if refs:
                ray.wait(refs, num_returns=len(refs))
        self._closing.set()
        self._watcher.join(5)
        if self._owns_connection:
            # Ray stops this driver's remaining tasks; their leases run out and another process reclaims them.
            ray.shutdown()


class _HandOff:
    """A Ray worker's executor: the jobs a handler creates there are handed back to the driver, which starts them
    when the task returns (they belong to the driver meanwhile, so its heartbeat renews their leases)."""

    def __init__(self) -> None:
        self.created: list[int] = []

    def submit(self, job_id: int) -> None:
        self.created.append(job_id)

    def take(self) -> list[int]:
        created, self.created = self.created, []
        return created

    def shutdown(self, wait: bool = True) -> None:
        pass


_runtimes: dict[tuple[str, str], tuple[Runtime, _HandOff]] = {}


def _worker_runtime(settings: Settings) -> tuple[Runtime, _HandOff]:
    """This worker's runtime for the installation `settings` describe, kept between tasks (engines are costly)."""
    from mlpilot.core.runtime import Runtime
    from mlpilot.metadata import load_services

    key = (settings.database_url_resolved, settings.storage_url_resolved)
    if key not in _runtimes:
        load_services()  # every job kind's handler and recovery hook
        while len(_runtimes) >= WORKER_RUNTIMES:
            _runtimes.pop(next(iter(_runtimes)))[0].close()
        runtime, handoff = Runtime.from_settings(settings), _HandOff()
        runtime.executor = handoff
        _runtimes[key] = (runtime, handoff)
    return _runtimes[key]


def run_on_worker(settings: Settings, owner: str, claimed: jobs.ClaimedJob,
                  handler: jobs.JobHandler | None) -> list[int]:
    """The body of the Ray task: run a job the driver `owner` claimed, recording everything in the job row;
    return the ids of the jobs its handler created, for the driver to start."""
    import ray

    # Jobs the handler creates are owned by the driver (whose heartbeat renews their leases and starts them).
    jobs.PROCESS_OWNER = owner
    runtime, handoff = _worker_runtime(settings)
    handoff.take()
    node = ray.get_runtime_context().get_node_id()
    jobs.JobContext(runtime=runtime, job_id=claimed.job_id, user_id=claimed.user_id,
                    project_id=claimed.project_id).log(f"running on Ray node {node} ({socket.gethostname()}, "
                                                       f"pid {os.getpid()})")
    jobs.run_claimed(runtime, claimed, handler)
    return handoff.take()
