"""Secrets at rest: one sealing scheme for every domain.

Connection secrets, scoring database passwords, webhook signing secrets and external-backend headers are all sealed
here with the installation's key (MLPILOT_SECRET_KEY, else DATA_DIR/secret.key), shown to users only masked, and
unsealed only where a call needs them. A key that changed since sealing is reported as input to enter again, never a
server error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from mlpilot.core.errors import InvalidInput

SECRET_KEY_FILE = "secret.key"
MASK = "***"


class KeySettings(Protocol):
    """The two settings the key is derived from (mlpilot.settings.Settings has both)."""

    @property
    def secret_key(self) -> SecretStr | None: ...

    @property
    def data_dir(self) -> Path: ...


def secret_cipher(settings: KeySettings) -> Fernet:
    """Return the cipher for secrets at rest: MLPILOT_SECRET_KEY, else a key generated once in DATA_DIR."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        raw = settings.secret_key.get_secret_value().encode()
        try:
            return Fernet(raw)
        except ValueError:
            # Any passphrase works: it is stretched into a Fernet key.
            return Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw).digest()))
    path = Path(settings.data_dir) / SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; use theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
    return Fernet(path.read_bytes().strip())


def seal_text(settings: KeySettings, text: str) -> str:
    """Seal one secret string ("" stays "")."""
    return secret_cipher(settings).encrypt(text.encode()).decode() if text else ""


def unseal_text(settings: KeySettings, token: str, *, what: str) -> str:
    """Open a token made by `seal_text`; `what` names the secret in the error (e.g. "webhook 'ops' secret")."""
    if not token:
        return ""
    try:
        return secret_cipher(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        raise InvalidInput(f"The {what} cannot be decrypted: the secret key changed since it was stored "
                           "(MLPILOT_SECRET_KEY or DATA_DIR/secret.key). Enter it again.") from None


def seal_values(settings: KeySettings, values: Mapping[str, Any]) -> str:
    """Seal a set of named secrets (headers, passwords, a service account's JSON) as one token ("" when none)."""
    return seal_text(settings, json.dumps(dict(values))) if values else ""


def unseal_values(settings: KeySettings, token: str, *, what: str) -> dict[str, Any]:
    """Open a token made by `seal_values`."""
    text = unseal_text(settings, token, what=what)
    opened: dict[str, Any] = json.loads(text) if text else {}
    return opened


def masked(names: Iterable[str]) -> dict[str, str]:
    """The form secrets take on their way to a user: each name with its value masked."""
    return {name: MASK for name in sorted(names)}
