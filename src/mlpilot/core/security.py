"""Password hashing with Argon2id and API tokens stored only as hashes (secrets at rest: mlpilot.core.secrets)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
SECRET_KEY_FILE = "secret.key"
TOKEN_PREFIX = "mlp_"


def use_password_cost(*, time_cost: int, memory_kib: int) -> None:
    """Hash new passwords with these Argon2id parameters (existing hashes carry their own and still verify)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
    dummy_password_hash.cache_clear()


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

