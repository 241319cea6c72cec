"""The background loop that starts scheduled pipeline runs: a daemon thread that wakes every few seconds.

It holds no state of its own: which slot is due lives in the database (`next_run_at`), and claiming a slot is a
conditional UPDATE, so several server processes or a restart never start the same run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from mlpilot.core.db import session_scope, utcnow
from mlpilot.core.periodic import PeriodicTask
from mlpilot.core.runtime import Runtime
from mlpilot.feeder import service

log = logging.getLogger(__name__)
EXTRAS_KEY = "feeder_scheduler"


class PipelineScheduler(PeriodicTask):
    """Wakes every `interval_s` seconds and starts the runs of pipelines whose time has come."""

    def __init__(self, runtime: Runtime, *, interval_s: float,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        super().__init__("feeder-scheduler", self.tick, interval_s=interval_s)
        self.runtime = runtime
        self.clock = clock

    def tick(self) -> int:
        """Start every due run once; return how many were started."""
        with session_scope(self.runtime.sessions) as session:
            return len(service.run_due_pipelines(session, runtime=self.runtime, now=self.clock()))


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
