"""Web pages of the accounts domain: login, logout and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts import service
from mlpilot.accounts.deps import SESSION_COOKIE, token_from_request
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import Unauthenticated
from mlpilot.core.i18n import LOCALES, get_translations
from mlpilot.web.pages import LANG_COOKIE, render, request_locale

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so the login form cannot be used as an open redirect.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/projects"
    return target


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/projects", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/projects") -> HTMLResponse:
    return render(request, "accounts/login.html", next=_safe_next(next))


@router.post("/login")
def login_submit(request: Request, session: DbSession, runtime: RuntimeDep,
                 username: Annotated[str, Form()], password: Annotated[str, Form()],
                 next: Annotated[str, Form()] = "/projects") -> Response:
    days = runtime.settings.ui.session_days
    try:
        _, secret = service.login(session, username=username, password=password, days=days)
    except Unauthenticated:
        _ = get_translations(request_locale(request)).gettext
        return render(request, "accounts/login.html", next=_safe_next(next), username=username,
                      error=_("Wrong username or password."), status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=days * 86400, httponly=True, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    secret = token_from_request(request)
    if secret:
        service.revoke_token_secret(session, secret=secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/lang")
def switch_language(lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/projects") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in LOCALES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
