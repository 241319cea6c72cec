"""Use cases of the accounts domain: users, logins, tokens and the first admin."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlpilot.accounts import throttling
from mlpilot.accounts.models import ROLE_RANK, ApiToken, Role, User
from mlpilot.core import security
from mlpilot.core.db import get_existing, unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated

ADMIN_USERNAME = "admin"
BOOTSTRAP_TOKEN_NAME = "bootstrap"
MIN_BOOTSTRAP_TOKEN = 32
SESSION_TOKEN_KIND = "session"


@dataclass(frozen=True)
class BootstrapResult:
    admin_created: bool
    admin_password: str | None
    token_installed: bool


def get_user(session: Session, *, user_id: int) -> User:
    """Return user `user_id`."""
    return get_existing(session, User, user_id, "User")


def find_user_by_username(session: Session, *, username: str) -> User | None:
    """Return the user called `username`, if any."""
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    """Return all users by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def create_user(session: Session, *, username: str, password: str | None = None, role: Role = Role.member,
                full_name: str = "", email: str | None = None) -> User:
    """Create a user; the username must be free."""
    with unit_of_work(session):
        if find_user_by_username(session, username=username) is not None:
            raise Conflict(f"A user named {username!r} already exists.")
        user = User(username=username, role=Role(role), full_name=full_name, email=email,
                    password_hash=security.hash_password(password) if password else None)
        session.add(user)
        session.flush()
    return user


def update_user(session: Session, *, user_id: int, full_name: str | None = None, email: str | None = None,
                role: Role | None = None, locale: str | None = None, active: bool | None = None,
                password: str | None = None) -> User:
    """Change a user's profile, role, language, status or password."""
    with unit_of_work(session):
        user = get_user(session, user_id=user_id)
        if full_name is not None:
            user.full_name = full_name
        if email is not None:
            user.email = email
        if role is not None:
            user.role = Role(role)
        if locale is not None:
            user.locale = locale
        if active is not None:
            user.active = active
        if password is not None:
            user.password_hash = security.hash_password(password)
    return user


def authenticate_password(session: Session, *, username: str, password: str) -> User:
    """Return the user whose credentials these are, or raise Unauthenticated.

    An unknown or password-less user still costs one hash check, so the answer time does not tell which user
    names exist.
    """
    user = find_user_by_username(session, username=username[:200])
    stored = user.password_hash if user is not None and user.password_hash else security.dummy_password_hash()
    matches = security.verify_password(stored, password)
    if user is None or not user.active or not user.password_hash or not matches:
        raise Unauthenticated("Wrong username or password.")
    return user


def change_password(session: Session, *, user_id: int, current_password: str, new_password: str,
                    keep_secret: str | None = None) -> User:
    """Change one's own password after checking the current one; other UI sessions are signed out."""
    user = get_user(session, user_id=user_id)
    if not user.password_hash or not security.verify_password(user.password_hash, current_password or ""):
        raise PermissionDenied("The current password is wrong; the password was not changed.")
    with unit_of_work(session):
        user.password_hash = security.hash_password(new_password)
        revoke_sessions(session, user_id=user_id, keep_secret=keep_secret)
    return user


def revoke_sessions(session: Session, *, user_id: int, keep_secret: str | None = None) -> int:
    """Sign a user out of every UI session except the one holding `keep_secret`; return how many."""
    keep = security.hash_token(keep_secret) if keep_secret else None
    count = 0
    with unit_of_work(session):
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user_id,
                                                            ApiToken.kind == SESSION_TOKEN_KIND,
                                                            ApiToken.revoked.is_(False))):
            if token.token_hash != keep:
                token.revoked = True
                count += 1
    return count


def create_token(session: Session, *, user_id: int, name: str, kind: str = "api",
                 expires_in: dt.timedelta | None = None, secret: str | None = None) -> tuple[ApiToken, str]:
    """Issue a token for a user and return it with its secret (shown once)."""
    secret = secret or security.new_token()
    with unit_of_work(session):
        get_user(session, user_id=user_id)
        token = ApiToken(user_id=user_id, name=name, kind=kind, token_hash=security.hash_token(secret),
                         prefix=secret[:8], expires_at=utcnow() + expires_in if expires_in else None)
        session.add(token)
        session.flush()
    return token, secret


def list_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    """Return a user's API tokens (not their UI sessions)."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.kind == "api").order_by(ApiToken.id)
    return list(session.scalars(stmt))


def revoke_token(session: Session, *, user_id: int, token_id: int) -> ApiToken:
    """Revoke one of a user's tokens."""
    with unit_of_work(session):
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != user_id:
            raise NotFound(f"Token {token_id} does not exist.")
        token.revoked = True
    return token


def revoke_token_secret(session: Session, *, secret: str) -> None:
    """Revoke the token with this secret (logout)."""
    with unit_of_work(session):
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.hash_token(secret)))
        if token is not None:
            token.revoked = True


def authenticate_token(session: Session, *, secret: str) -> User:
    """Return the active user a token belongs to, or raise Unauthenticated."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.hash_token(secret)))
    now = utcnow()
    if token is None or token.revoked or (token.expires_at is not None and token.expires_at < now):
        raise Unauthenticated("The token is unknown, revoked or expired.")
    user = token.user
    if not user.active:
        raise Unauthenticated("This user is deactivated.")
    # Touch last-use at most once a minute so reads do not turn into writes on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with unit_of_work(session):
            token.last_used_at = now
    return user


def login(session: Session, *, username: str, password: str, days: int, address: str = "unknown",
          max_failures: int = 5, window: dt.timedelta = dt.timedelta(minutes=15)) -> tuple[User, str]:
    """Check credentials and open a UI session; return the user and the session secret.

    Failed attempts are counted per user name and per address; past `max_failures` in `window` every attempt
    is refused (429) without checking the password, so guessing is limited even for unknown names.
    """
    throttling.check_login_allowed(session, username=username, address=address, max_failures=max_failures,
                                   window=window)
    try:
        user = authenticate_password(session, username=username, password=password)
    except Unauthenticated:
        throttling.record_login_failure(session, username=username, address=address, window=window)
        raise
    with unit_of_work(session):
        throttling.clear_login_failures(session, username=username, address=address)
        _, secret = create_token(session, user_id=user.id, name="web login", kind=SESSION_TOKEN_KIND,
                                 expires_in=dt.timedelta(days=days))
    return user, secret


def require_role(user: User, role: Role) -> None:
    """Raise PermissionDenied unless `user` holds at least `role`."""
    if ROLE_RANK[Role(user.role)] < ROLE_RANK[role]:
        raise PermissionDenied(f"This needs the {role.value} role; you are {user.role}.")


def count_users(session: Session) -> int:
    """Return the number of users."""
    return session.scalar(select(func.count()).select_from(User)) or 0


def bootstrap_admin(session: Session, *, password: str | None, token: str | None) -> BootstrapResult:
    """Create the first admin when there is none and install the bootstrap token; safe to repeat."""
    with unit_of_work(session):
        admin = find_user_by_username(session, username=ADMIN_USERNAME)
        created, chosen_password = False, None
        if admin is None:
            if count_users(session) and not token:
                return BootstrapResult(False, None, False)
            chosen_password = password or security.new_password()
            if len(chosen_password) < 8:
                raise InvalidInput("MLPILOT_ADMIN_PASSWORD must have at least 8 characters.")
            admin = create_user(session, username=ADMIN_USERNAME, password=chosen_password, role=Role.admin,
                                full_name="Administrator")
            created = True
        installed = False
        wanted = security.hash_token(token) if token else None
        # The bootstrap token lives exactly as long as the setting: a changed or removed value revokes the old one.
        for old in session.scalars(select(ApiToken).where(ApiToken.name == BOOTSTRAP_TOKEN_NAME,
                                                          ApiToken.revoked.is_(False))):
            if old.token_hash != wanted:
                old.revoked = True
        if token:
            exists = session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
            if exists is None:
                create_token(session, user_id=admin.id, name=BOOTSTRAP_TOKEN_NAME, secret=token)
                installed = True
    return BootstrapResult(created, chosen_password, installed)


def check_bootstrap_token(token: str | None) -> None:
    """Refuse a bootstrap token too weak to be an admin's credential."""
    if token is not None and (len(token) < MIN_BOOTSTRAP_TOKEN or len(set(token)) < 8):
        raise InvalidInput(f"MLPILOT_BOOTSTRAP_TOKEN must have at least {MIN_BOOTSTRAP_TOKEN} characters and at "
                           "least 8 different ones (it becomes the admin's API token); generate one with "
                           "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.")


def active_token_owners(session: Session) -> dict[str, tuple[int, str]]:
    """Return hash → (user id, role) of every token that is not revoked, unexpired and whose user is active."""
    now = utcnow()
    stmt = (select(ApiToken.token_hash, ApiToken.expires_at, User.id, User.role)
            .join(User, User.id == ApiToken.user_id).where(ApiToken.revoked.is_(False), User.active.is_(True)))
    return {h: (uid, role) for h, exp, uid, role in session.execute(stmt) if exp is None or exp > now}


def active_token_hashes(session: Session) -> dict[str, dt.datetime | None]:
    """Return hash → expiry of every token that is not revoked and whose user is active."""
    now = utcnow()
    stmt = (select(ApiToken.token_hash, ApiToken.expires_at).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.revoked.is_(False), User.active.is_(True)))
    return {h: exp for h, exp in session.execute(stmt) if exp is None or exp > now}
