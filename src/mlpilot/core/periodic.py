"""A daemon thread that calls a tick every few seconds: the one loop behind every background worker.

The notifier, the alert evaluator, the pipeline scheduler and the token sync all keep their state in the
database, so a loop only has to wake, call, and survive a bad tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    """Calls `tick()` every `interval_s` seconds in a daemon thread; a failing tick is logged, never fatal."""

    def __init__(self, name: str, tick: Callable[[], object], *, interval_s: float) -> None:
        self.name, self.tick, self.interval_s = name, tick, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the loop (it dies with the process); starting twice is harmless."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=f"mlpilot-{self.name}", daemon=True)
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
                # A bad tick (the database briefly away) must not end the loop for the life of the server.
                log.exception("%s tick failed", self.name)
