"""Web pages of the accounts domain: login, logout, the language switch, one's account and API tokens, and the
administrators' user list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mlpilot.accounts import service
from mlpilot.accounts.deps import SESSION_COOKIE, forget_initial_password, secure_cookies, token_from_request
from mlpilot.accounts.models import Role, User
from mlpilot.accounts.schemas import MIN_PASSWORD_LENGTH, UserCreate
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import MlpilotError, NotFound, PermissionDenied, TooManyRequests, Unauthenticated
from mlpilot.core.i18n import LOCALES, get_translations
from mlpilot.web import access
from mlpilot.web.pages import LANG_COOKIE, PageUser, render, request_locale

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so the login form cannot be used as an open redirect.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/projects"
    return target


@router.get("/", response_class=RedirectResponse, dependencies=[access.Public])
def home() -> RedirectResponse:
    return RedirectResponse("/projects", status_code=303)


@router.get("/login", response_class=HTMLResponse, dependencies=[access.Public])
def login_page(request: Request, next: str = "/projects") -> HTMLResponse:
    return render(request, "accounts/login.html", next=_safe_next(next))


@router.post("/login", dependencies=[access.Public])
def login_submit(request: Request, session: DbSession, runtime: RuntimeDep,
                 username: Annotated[str, Form(max_length=200)], password: Annotated[str, Form(max_length=1000)],
                 next: Annotated[str, Form(max_length=2000)] = "/projects") -> Response:
    ui = runtime.settings.ui
    try:
        user, secret = service.login(session, username=username, password=password, days=ui.session_days,
                                     address=request.client.host if request.client else "unknown",
                                     max_failures=ui.login_max_failures,
                                     window=dt.timedelta(minutes=ui.login_window_minutes))
    except (Unauthenticated, TooManyRequests) as exc:
        _ = get_translations(request_locale(request)).gettext
        message = _("Wrong username or password.") if isinstance(exc, Unauthenticated) else _(
            "Too many failed sign-ins; wait a few minutes and try again.")
        return render(request, "accounts/login.html", next=_safe_next(next), username=username,
                      error=message, status_code=exc.status)
    if user.username == service.ADMIN_USERNAME:
        # The generated first password has done its job once the admin signed in: do not leave it on disk.
        forget_initial_password(runtime.settings)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=ui.session_days * 86400, httponly=True, samesite="lax",
                        secure=secure_cookies(runtime.settings))
    return response


@router.post("/logout", dependencies=[access.Public])
def logout(request: Request, session: DbSession) -> Response:
    secret = token_from_request(request)
    if secret:
        service.revoke_token_secret(session, secret=secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/lang", dependencies=[access.Public])
def switch_language(lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/projects") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in LOCALES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")  # a preference, not a secret
    return response


# --- one's own account: profile, password, API tokens --------------------------------------------------------

# The secret of a token just created crosses the redirect in a short-lived cookie read once by the next page, so a
# refresh never creates a second token (Post/Redirect/Get) and the secret is never put in a URL.
NEW_TOKEN_COOKIE = "mlpilot_new_token"
MAX_TOKEN_DAYS = 3650


def _account_page(request: Request, session: Session, user: User, *, error: str | None = None,
                  notice: str | None = None, form: dict[str, str] | None = None, new_token: str | None = None,
                  status_code: int = 200) -> HTMLResponse:
    return render(request, "accounts/account.html", user=user, tokens=service.list_tokens(session, user_id=user.id),
                  error=error, notice=notice, form=form or {}, new_token=new_token, max_days=MAX_TOKEN_DAYS,
                  status_code=status_code)


@router.get("/account", response_class=HTMLResponse, dependencies=[access.SignedIn])
def account_page(request: Request, session: DbSession, user: PageUser, changed: str = "") -> HTMLResponse:
    _ = get_translations(request_locale(request, user)).gettext
    secret = request.cookies.get(NEW_TOKEN_COOKIE)
    notice = _("Your password was changed; your other sessions were signed out.") if changed == "password" else None
    response = _account_page(request, session, user, notice=notice, new_token=secret)
    if secret:
        response.delete_cookie(NEW_TOKEN_COOKIE, path="/account")
    return response


@router.post("/account/password", dependencies=[access.SignedIn])
def change_password_from_page(request: Request, session: DbSession, user: PageUser,
                              current_password: Annotated[str, Form(max_length=200)] = "",
                              new_password: Annotated[str, Form(max_length=200)] = "",
                              confirm_password: Annotated[str, Form(max_length=200)] = "") -> Response:
    _ = get_translations(request_locale(request, user)).gettext
    if len(new_password) < MIN_PASSWORD_LENGTH:
        error = _("The new password needs at least %(n)d characters.") % {"n": MIN_PASSWORD_LENGTH}
        return _account_page(request, session, user, error=error, status_code=422)
    if new_password != confirm_password:
        return _account_page(request, session, user, error=_("The two new passwords differ; type the same twice."),
                             status_code=422)
    try:
        service.change_password(session, user_id=user.id, current_password=current_password,
                                new_password=new_password, keep_secret=request.cookies.get(SESSION_COOKIE))
    except PermissionDenied:
        return _account_page(request, session, user, status_code=403,
                             error=_("The current password is wrong; the password was not changed."))
    return RedirectResponse("/account?changed=password", status_code=303)


@router.post("/account/tokens", dependencies=[access.SignedIn])
def create_token_from_page(request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                           name: Annotated[str, Form(max_length=200)] = "",
                           expires_in_days: Annotated[str, Form(max_length=10)] = "") -> Response:
    _ = get_translations(request_locale(request, user)).gettext
    form = {"name": name, "expires_in_days": expires_in_days}
    days = int(expires_in_days) if expires_in_days.strip().isdigit() else None
    if not name.strip() or len(name.strip()) > 120:
        return _account_page(request, session, user, form=form, status_code=422,
                             error=_("Give the token a name of 1 to 120 characters, e.g. the script that uses it."))
    if expires_in_days.strip() and (days is None or not 1 <= days <= MAX_TOKEN_DAYS):
        error = _("Expiry: a whole number of days from 1 to %(max)d, or empty for no expiry.") % {
            "max": MAX_TOKEN_DAYS}
        return _account_page(request, session, user, form=form, error=error, status_code=422)
    _token, secret = service.create_token(session, user_id=user.id, name=name.strip(),
                                          expires_in=dt.timedelta(days=days) if days else None)
    response = RedirectResponse("/account#tokens", status_code=303)
    response.set_cookie(NEW_TOKEN_COOKIE, secret, max_age=120, path="/account", httponly=True, samesite="strict",
                        secure=secure_cookies(runtime.settings))
    return response


@router.post("/account/tokens/{token_id}/revoke", dependencies=[access.SignedIn])
def revoke_token_from_page(token_id: Annotated[int, Path(ge=1, le=INT64_MAX)], request: Request,
                           session: DbSession, user: PageUser) -> Response:
    try:
        service.revoke_token(session, user_id=user.id, token_id=token_id)
    except NotFound as exc:
        return _account_page(request, session, user, error=exc.detail, status_code=exc.status)
    return RedirectResponse("/account#tokens", status_code=303)


# --- administrators: users and roles -------------------------------------------------------------------------

def _users_page(request: Request, session: Session, user: User, *, error: str | None = None,
                form: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "accounts/users.html", user=user, users=service.list_users(session),
                  roles=[r.value for r in Role], error=error, form=form or {}, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse, dependencies=[access.AdminOnly])
def users_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _users_page(request, session, user)


@router.post("/admin/users", dependencies=[access.AdminOnly])
def create_user_from_page(request: Request, session: DbSession, user: PageUser,
                          username: Annotated[str, Form(max_length=200)] = "",
                          full_name: Annotated[str, Form(max_length=200)] = "",
                          email: Annotated[str, Form(max_length=200)] = "",
                          role: Annotated[str, Form(max_length=20)] = Role.member.value,
                          password: Annotated[str, Form(max_length=200)] = "") -> Response:
    _ = get_translations(request_locale(request, user)).gettext
    form = {"username": username, "full_name": full_name, "email": email, "role": role}
    if role not in {r.value for r in Role}:
        return _users_page(request, session, user, form=form, status_code=422,
                           error=_("Role: choose admin, member or viewer."))
    try:
        body = UserCreate(username=username.strip(), full_name=full_name.strip(), email=email.strip() or None,
                          role=Role(role), password=password or None)
    except ValidationError as exc:
        return _users_page(request, session, user, form=form, status_code=422,
                           error=_form_error(exc, _))
    try:
        service.create_user(session, username=body.username, password=body.password, role=body.role,
                            full_name=body.full_name, email=body.email)
    except MlpilotError as exc:
        return _users_page(request, session, user, form=form, error=exc.detail, status_code=exc.status)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}", dependencies=[access.AdminOnly])
def update_user_from_page(user_id: Annotated[int, Path(ge=1, le=INT64_MAX)], request: Request,
                          session: DbSession, user: PageUser, role: Annotated[str, Form(max_length=20)] = "",
                          active: Annotated[str, Form(max_length=5)] = "",
                          password: Annotated[str, Form(max_length=200)] = "") -> Response:
    _ = get_translations(request_locale(request, user)).gettext
    if user_id == user.id and (role not in ("", Role.admin.value) or active == "no"):
        return _users_page(request, session, user, status_code=409, error=_(
            "You cannot remove your own administrator role or deactivate yourself; ask another administrator."))
    if role and role not in {r.value for r in Role}:
        return _users_page(request, session, user, status_code=422,
                           error=_("Role: choose admin, member or viewer."))
    if password and len(password) < MIN_PASSWORD_LENGTH:
        error = _("The new password needs at least %(n)d characters.") % {"n": MIN_PASSWORD_LENGTH}
        return _users_page(request, session, user, error=error, status_code=422)
    try:
        service.update_user(session, user_id=user_id, role=Role(role) if role else None,
                            active={"yes": True, "no": False}.get(active), password=password or None)
        if password or active == "no":  # a reset password or a deactivated account signs out everywhere
            service.revoke_sessions(session, user_id=user_id)
    except MlpilotError as exc:
        return _users_page(request, session, user, error=exc.detail, status_code=exc.status)
    return RedirectResponse("/admin/users", status_code=303)


def _form_error(exc: ValidationError, gettext: Callable[[str], str]) -> str:
    """Name the field at fault and what it accepts, in the page's language."""
    field = str(exc.errors()[0]["loc"][0]) if exc.errors() and exc.errors()[0]["loc"] else ""
    rules = {
        "username": gettext("Username: 2 to 80 letters, digits or . _ @ - (no spaces)."),
        "password": gettext("Password: at least %(n)d characters, or empty to sign in by token only.")
        % {"n": MIN_PASSWORD_LENGTH},
    }
    return rules.get(field, gettext("Check the field %(field)s.") % {"field": field})
