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
        self._scopes: dict[str, frozenset[str] | None] = {}
        self._lock = threading.Lock()
        self.synced_at: dt.datetime | None = None

    def replace(self, tokens: dict[str, dt.datetime | None],
                scopes: dict[str, frozenset[str] | None] | None = None) -> None:
        """Swap in a fresh snapshot of valid token hashes and, per hash, the models it may use (None: all)."""
        with self._lock:
            self._tokens = dict(tokens)
            self._scopes = dict(scopes or {})
            self.synced_at = dt.datetime.now(dt.UTC)

    def check(self, authorization: str | None, model: str | None = None) -> str | None:
        """Return None when the header carries a valid token allowed to use `model`, else the reason to refuse.

        A token of a user who may not read the model's project gets `model_not_found(model)`, the very answer an
        unknown model gets, so names of other projects' services are not revealed.
        """
        if not authorization or not authorization.lower().startswith("bearer "):
            return UNAUTHENTICATED
        digest = hashlib.sha256(authorization[7:].strip().encode()).hexdigest()
        tokens = self._tokens
        if digest not in tokens:
            return "The token is unknown, revoked or expired."
        expires = tokens[digest]
        if expires is not None and expires < dt.datetime.now(dt.UTC):
            return "The token is unknown, revoked or expired."
        if model is not None:
            allowed = self._scopes.get(digest)
            if allowed is not None and model not in allowed:
                return model_not_found(model)
        return None


def model_not_found(name: str) -> str:
    """The refusal for a model that does not exist or that the token may not use (the same on purpose)."""
    return f"model '{name}' not found"


def refusal_status(reason: str) -> int:
    """The HTTP status of a TokenGate refusal: 404 for a model out of the token's reach, else 401."""
    return 404 if reason.startswith("model '") else 401
