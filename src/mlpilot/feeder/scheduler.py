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
PART_NAME = "feeder_scheduler"


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

    Runs a stopped process left behind are failed by the job reclaim (the feeder's interrupt hook).
    """
    settings = runtime.settings.feeder
    if not settings.scheduler_enabled:
        return None
    runtime.start_loop(PART_NAME, lambda: PipelineScheduler(runtime, interval_s=settings.scheduler_interval_s))
    return runtime.part(PART_NAME, PipelineScheduler)


def stop_scheduler(runtime: Runtime) -> None:
    """Stop the runtime's pipeline scheduler, if one runs."""
    runtime.stop_loop(PART_NAME)
