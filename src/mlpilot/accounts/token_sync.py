"""Keeps the data plane's token snapshot in step with the token table, off the request path."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from mlpilot.accounts import service
from mlpilot.core.db import session_scope

log = logging.getLogger(__name__)
SYNC_SECONDS = 2.0


class TokenSnapshotTarget(Protocol):
    def replace(self, tokens: dict[str, Any]) -> None: ...


class TokenSync:
    """Copies valid token hashes into `target` now and then every SYNC_SECONDS until stopped."""

    def __init__(self, sessions: Any, target: TokenSnapshotTarget, interval: float = SYNC_SECONDS) -> None:
        self.sessions = sessions
        self.target = target
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sync_once(self) -> None:
        """Copy the current snapshot."""
        with session_scope(self.sessions) as session:
            self.target.replace(service.active_token_hashes(session))

    def start(self) -> None:
        """Sync once synchronously, then keep syncing in a daemon thread."""
        self.sync_once()
        self._thread = threading.Thread(target=self._loop, name="mlpilot-token-sync", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync_once()
            except Exception:  # a database hiccup must not stop later syncs
                log.exception("token sync failed; keeping the previous snapshot")

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
