"""Background loops of notifications: a daemon thread calling a tick every few seconds (state lives in the DB).

`start_task`/`stop_task` also run the alert evaluator (monitoring.alerts).
"""

from __future__ import annotations

from collections.abc import Callable

from mlpilot.core.db import session_scope
from mlpilot.core.periodic import PeriodicTask
from mlpilot.core.runtime import Runtime
from mlpilot.notifications import service

PART_NAME = "notifier"
__all__ = ["PeriodicTask", "start_notifier", "start_task", "stop_notifier", "stop_task"]


def start_task(runtime: Runtime, key: str, make: Callable[[], PeriodicTask]) -> PeriodicTask | None:
    """Start the runtime's task under `key` unless notifications are off; starting twice is harmless."""
    if not runtime.settings.notifications.enabled:
        return None
    return runtime.start_loop(key, make)


def stop_task(runtime: Runtime, key: str) -> None:
    runtime.stop_loop(key)


def Notifier(runtime: Runtime, *, interval_s: float) -> PeriodicTask:  # noqa: N802 - reads as a class
    """The loop that sends due webhook and e-mail deliveries."""

    def tick() -> int:
        with session_scope(runtime.sessions) as session:
            return service.deliver_due(session, settings=runtime.settings)

    return PeriodicTask("notifier", tick, interval_s=interval_s)


def start_notifier(runtime: Runtime) -> PeriodicTask | None:
    return start_task(runtime, PART_NAME,
                      lambda: Notifier(runtime, interval_s=runtime.settings.notifications.interval_s))


def stop_notifier(runtime: Runtime) -> None:
    stop_task(runtime, PART_NAME)
