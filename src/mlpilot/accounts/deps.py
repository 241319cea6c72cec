"""Request authentication: bearer token or UI session cookie, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from mlpilot.accounts import service
from mlpilot.accounts.models import Role, User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import Unauthenticated
from mlpilot.core.rules import declare_rule
from mlpilot.settings import Settings

SESSION_COOKIE = "mlpilot_session"
INITIAL_PASSWORD_FILE = "initial-admin-password.txt"


def secure_cookies(settings: Settings) -> bool:
    """Whether the login cookie is sent over HTTPS only (the setting, else whether the public URL is https)."""
    if settings.ui.secure_cookies is not None:
        return settings.ui.secure_cookies
    return bool(settings.public_url and settings.public_url.lower().startswith("https://"))


def forget_initial_password(settings: Settings) -> None:
    """Remove the generated first admin password from disk once it is no longer needed."""
    (settings.data_dir / INITIAL_PASSWORD_FILE).unlink(missing_ok=True)


def token_from_request(request: Request) -> str | None:
    """Return the bearer token or session cookie the request carries."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def get_current_user(request: Request, session: DbSession) -> User:
    """Return the authenticated user or raise 401."""
    secret = token_from_request(request)
    if not secret:
        raise Unauthenticated("Send 'Authorization: Bearer <token>' (create one with 'mlpilot tokens create').")
    user = service.authenticate_token(session, secret=secret)
    request.state.user = user
    return user


declare_rule(get_current_user, "signed-in")
CurrentUser = Annotated[User, Depends(get_current_user)]


def RequireRole(role: Role) -> Callable[..., User]:  # noqa: N802 - reads as a type in signatures
    """Return a dependency that admits users holding at least `role`."""

    def check(user: CurrentUser) -> User:
        service.require_role(user, role)
        return user

    return declare_rule(check, f"role:{role.value}")


MemberUser = Annotated[User, Depends(RequireRole(Role.member))]
AdminUser = Annotated[User, Depends(RequireRole(Role.admin))]
