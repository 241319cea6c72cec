"""Job worker processes: `mlpilot worker` claims the jobs a server left queued (`jobs.executor = "queue"`).

Any number of workers, on this machine or others, share the metadata database (PostgreSQL for several machines)
and the store. A worker polls for queued jobs and hands them to its own thread pool; claiming is the conditional
UPDATE of `claim_job`, so a job two workers both see runs once. Each worker renews the leases of the jobs it runs
and reclaims those of workers that died (their jobs fail as interrupted, or resume where their kind allows).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.periodic import PeriodicTask
from mlpilot.core.runtime import Runtime

log = logging.getLogger(__name__)


class JobWorker:
    """Polls the database for queued jobs and runs up to `threads` of them at once in this process."""

    def __init__(self, runtime: Runtime, *, threads: int) -> None:
        self.runtime = runtime
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mlpilot-worker")
        self._running: set[Future[None]] = set()
        self._lock = threading.Lock()
        settings = runtime.settings.jobs
        self._poll = PeriodicTask("job-poll", self.poll, interval_s=settings.poll_seconds)
        self._heartbeat = PeriodicTask("job-heartbeat", self.beat, interval_s=settings.heartbeat_seconds)

    def start(self) -> None:
        self._heartbeat.start()
        self._poll.start()

    def submit(self, job_id: int) -> None:
        """A job created by a job of this worker: it is queued, so the next poll (here or elsewhere) takes it."""

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with `wait`, let the running ones finish."""
        self._poll.stop()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self._heartbeat.stop()

    def free_slots(self) -> int:
        with self._lock:
            self._running = {f for f in self._running if not f.done()}
            return self.threads - len(self._running)

    def poll(self) -> int:
        """Start as many queued jobs as there are free threads; return how many this worker claimed."""
        free = self.free_slots()
        if free <= 0:
            return 0
        with session_scope(self.runtime.sessions) as session:
            # A few more than the free threads: others may claim some of them first.
            candidates = jobs.queued_job_ids(session, limit=free * 2)
        started = 0
        for job_id in candidates:
            if started == free:
                break
            claimed = jobs.claim_job(self.runtime, job_id)
            if claimed is None:
                continue  # another worker was faster
            future = self._pool.submit(jobs.run_claimed, self.runtime, claimed, jobs.handler_for(claimed.kind))
            with self._lock:
                self._running.add(future)
            started += 1
            log.info("job %s (%s) started", job_id, claimed.kind)
        return started

    def beat(self) -> None:
        """Renew the leases of this worker's jobs, then reclaim the jobs of processes that stopped renewing."""
        lease = jobs.lease_duration(self.runtime)
        with session_scope(self.runtime.sessions) as session:
            jobs.renew_leases(session, lease=lease)
            jobs.reclaim_expired_jobs(session)
