"""Bearer-token checks on the data plane without touching the metadata database.

The control plane pushes the hashes of every valid token into a TokenGate every few seconds; a request is
checked against that in-memory snapshot (one SHA-256, one dict lookup). A new or revoked token therefore
takes effect within one sync interval.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

UNAUTHENTICATED = "Send 'Authorization: Bearer <token>' with an mlpilot API token."


class TokenGate:
    """The set of token hashes the data plane accepts, with their expiry times."""

    def __init__(self) -> None:
        self._tokens: dict[str, dt.datetime | None] = {}
        self._lock = threading.Lock()
        self.synced_at: dt.datetime | None = None

    def replace(self, tokens: dict[str, dt.datetime | None]) -> None:
        """Swap in a fresh snapshot of valid token hashes."""
        with self._lock:
            self._tokens = dict(tokens)
            self.synced_at = dt.datetime.now(dt.UTC)

    def check(self, authorization: str | None) -> str | None:
        """Return None when the header carries a valid token, else the reason to refuse."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return UNAUTHENTICATED
        digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
        tokens = self._tokens
        if digest not in tokens:
            return "The token is unknown, revoked or expired."
        expires = tokens[digest]
        if expires is not None and expires < dt.datetime.now(dt.UTC):
            return "The token is unknown, revoked or expired."
        return None
