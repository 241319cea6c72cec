"""Password hashing with Argon2id, API tokens stored only as hashes, and secrets encrypted at rest (Fernet)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

from mlpilot.core.errors import InvalidInput

_hasher = PasswordHasher()
SECRET_KEY_FILE = "secret.key"
TOKEN_PREFIX = "mlp_"


def hash_password(password: str) -> str:
    """Return an Argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether `password` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_password_hash() -> str:
    """Return a hash of a random password, checked for unknown users so failures take the same time."""
    return _hasher.hash(secrets.token_urlsafe(16))


def new_token() -> str:
    """Return a fresh random API token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the stored form of a token; tokens carry 256 random bits, so a fast hash suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """Return a random password that is easy to type."""
    return secrets.token_urlsafe(12)


# Secrets at rest --------------------------------------------------------------------------------------------

def secret_cipher(settings: Any) -> Fernet:
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



def encrypt_text(settings: Any, text: str) -> str:
    """Encrypt `text` to a Fernet token ("" stays "")."""
    return secret_cipher(settings).encrypt(text.encode()).decode() if text else ""


def decrypt_text(settings: Any, token: str, *, what: str) -> str:
    """Decrypt a token made by `encrypt_text`; `what` names the secret in the error (e.g. "webhook 'ops' secret")."""
    if not token:
        return ""
    try:
        return secret_cipher(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        raise InvalidInput(f"The {what} cannot be decrypted: the secret key changed since it was stored "
                           "(MLPILOT_SECRET_KEY or DATA_DIR/secret.key). Enter it again.") from None
