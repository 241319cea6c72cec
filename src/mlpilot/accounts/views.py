"""Web pages of the accounts domain: login, logout and the language switch."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts import service
from mlpilot.accounts.deps import SESSION_COOKIE, forget_initial_password, secure_cookies, token_from_request
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import TooManyRequests, Unauthenticated
from mlpilot.core.i18n import LOCALES, get_translations
from mlpilot.web import access
from mlpilot.web.pages import LANG_COOKIE, render, request_locale

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
