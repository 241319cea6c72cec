"""The background loop that starts scheduled pipeline runs: a daemon thread that wakes every few seconds.

It holds no state of its own: which slot is due lives in the database (`next_run_at`), and claiming a slot is a
conditional UPDATE, so several server processes or a restart never start the same run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from mlpilot.core.db import session_scope, utcnow
from mlpilot.core.runtime import Runtime
from mlpilot.feeder import service

log = logging.getLogger(__name__)
EXTRAS_KEY = "feeder_scheduler"


class PipelineScheduler:
    """Wakes every `interval_s` seconds and starts the runs of pipelines whose time has come."""

    def __init__(self, runtime: Runtime, *, interval_s: float,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.runtime = runtime
        self.interval_s = interval_s
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        """Start every due run once; return how many were started."""
        with session_scope(self.runtime.sessions) as session:
            return len(service.run_due_pipelines(session, runtime=self.runtime, now=self.clock()))

    def start(self) -> None:
        """Start the loop in a daemon thread (it dies with the process)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="mlpilot-feeder-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait for it briefly."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:
                # A bad tick (database briefly away) must not end scheduling for the life of the server.
                log.exception("pipeline scheduler tick failed")


def start_scheduler(runtime: Runtime) -> PipelineScheduler | None:
    """Start the runtime's pipeline scheduler unless settings turn it off; starting twice is harmless.

    Runs a previous process left queued or running are marked failed first (their jobs already were).
    """
    settings = runtime.settings.feeder
    if EXTRAS_KEY not in runtime.extras:
        with session_scope(runtime.sessions) as session:
            interrupted = service.fail_interrupted_pipeline_runs(session)
        if interrupted:
            log.warning("marked %d interrupted pipeline run(s) as failed", interrupted)
    if not settings.scheduler_enabled:
        return None
    scheduler = runtime.extras.get(EXTRAS_KEY)
    if scheduler is None:
        scheduler = PipelineScheduler(runtime, interval_s=settings.scheduler_interval_s)
        scheduler.start()
        runtime.extras[EXTRAS_KEY] = scheduler
    return scheduler


def stop_scheduler(runtime: Runtime) -> None:
    """Stop the runtime's pipeline scheduler, if one runs."""
    scheduler = runtime.extras.pop(EXTRAS_KEY, None)
    if scheduler is not None:
        scheduler.stop()
