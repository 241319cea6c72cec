"""Keeps the data plane's token snapshot in step with the token table, off the request path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from mlpilot.accounts import service
from mlpilot.core.db import session_scope
from mlpilot.core.periodic import PeriodicTask

SYNC_SECONDS = 2.0


class TokenSnapshotTarget(Protocol):
    def replace(self, tokens: dict[str, Any], scopes: dict[str, frozenset[str] | None] | None = None) -> None: ...


class TokenSync(PeriodicTask):
    """Copies valid token hashes into `target` now and then every SYNC_SECONDS until stopped."""

    def __init__(self, sessions: Any, target: TokenSnapshotTarget, interval: float = SYNC_SECONDS,
                 scopes: Callable[[Any], dict[str, frozenset[str] | None]] | None = None) -> None:
        # A failed sync is logged by the loop and the previous snapshot is kept.
        super().__init__("token-sync", self.sync_once, interval_s=interval)
        self.sessions = sessions
        self.target = target
        # Which services each token may call (from the serving domain, passed in to keep accounts below it).
        self.scopes = scopes

    def sync_once(self) -> None:
        """Copy the current snapshot."""
        with session_scope(self.sessions) as session:
            tokens = service.active_token_hashes(session)
            self.target.replace(tokens, self.scopes(session) if self.scopes is not None else None)

    def start(self) -> None:
        """Sync once synchronously, then keep syncing in a daemon thread."""
        self.sync_once()
        super().start()
