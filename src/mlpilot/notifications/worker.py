"""Background loops of notifications: a daemon thread calling a tick every few seconds (state lives in the DB).

`PeriodicTask` is also what the alert evaluator (monitoring.alerts) runs on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.notifications import service

log = logging.getLogger(__name__)
EXTRAS_KEY = "notifier"


class PeriodicTask:
    """Calls `tick()` every `interval_s` seconds in a daemon thread; a failing tick is logged, never fatal."""

    def __init__(self, name: str, tick: Callable[[], object], *, interval_s: float) -> None:
        self.name, self.tick, self.interval_s = name, tick, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"mlpilot-{self.name}", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:
                log.exception("%s tick failed", self.name)


def start_task(runtime: Runtime, key: str, make: Callable[[], PeriodicTask]) -> PeriodicTask | None:
    """Start the runtime's task under `key` unless notifications are off; starting twice is harmless."""
    if not runtime.settings.notifications.enabled:
        return None
    task = runtime.extras.get(key)
    if task is None:
        task = runtime.extras[key] = make()
        task.start()
    return task


def stop_task(runtime: Runtime, key: str) -> None:
    task = runtime.extras.pop(key, None)
    if task is not None:
        task.stop()


def Notifier(runtime: Runtime, *, interval_s: float) -> PeriodicTask:  # noqa: N802 - reads as a class
    """The loop that sends due webhook and e-mail deliveries."""

    def tick() -> int:
        with session_scope(runtime.sessions) as session:
            return service.deliver_due(session, settings=runtime.settings)

    return PeriodicTask("notifier", tick, interval_s=interval_s)


def start_notifier(runtime: Runtime) -> PeriodicTask | None:
    return start_task(runtime, EXTRAS_KEY,
                      lambda: Notifier(runtime, interval_s=runtime.settings.notifications.interval_s))


def stop_notifier(runtime: Runtime) -> None:
    stop_task(runtime, EXTRAS_KEY)
