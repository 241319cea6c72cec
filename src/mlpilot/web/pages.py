"""Rendering pages: templates with gettext, the language choice, and the logged-in user for views."""

from __future__ import annotations

import base64
import binascii
import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.deps import SESSION_COOKIE
from mlpilot.accounts.models import User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import MlpilotError, Unauthenticated
from mlpilot.core.i18n import LOCALE_NAMES, LOCALES, get_translations, negotiate_locale
from mlpilot.core.rules import declare_rule

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LANG_COOKIE = "mlpilot_lang"
# Post/Redirect/Get: a form that fails redirects (303) with its error and inputs in this short-lived cookie; the
# next page of the same path shows them once, so a refresh never re-submits and nothing typed is lost.
FLASH_COOKIE = "mlpilot_flash"
FLASH_FIELD_CHARS = 1000

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Entity-escaped so a quote or ampersand inside the data cannot end the attribute; browsers decode it back.
templates.env.filters["tojson_attr"] = lambda value: Markup(html.escape(json.dumps(value, default=str), quote=True))


class LoginRequired(MlpilotError):
    """Raised by pages when nobody is logged in; the app turns it into a redirect to /login."""

    status = 401
    title = "Login required"

    def __init__(self, next_url: str) -> None:
        super().__init__("Please log in.")
        self.next_url = next_url


def request_locale(request: Request, user: User | None = None) -> str:
    """Return the UI language: explicit choice (cookie), then the user's setting, then the browser's."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    if user is not None and user.locale in LOCALES:
        return user.locale
    settings = request.app.state.runtime.settings
    return negotiate_locale(request.headers.get("accept-language"), settings.ui.default_locale)


def page_gettext(request: Request, user: User | None = None) -> Callable[[str], str]:
    """Return the gettext of the request's language, for text built outside templates (errors, charts)."""
    user = user or getattr(request.state, "user", None)
    return get_translations(request_locale(request, user)).gettext


def get_page_user(request: Request, session: DbSession) -> User:
    """Return the user logged in through the session cookie, or send the browser to the login page."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequired(_next(request))
    try:
        user = accounts_service.authenticate_token(session, secret=secret)
    except Unauthenticated:
        raise LoginRequired(_next(request)) from None
    request.state.user = user
    return user


def _next(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return quote(target, safe="/?=&")


declare_rule(get_page_user, "signed-in")
PageUser = Annotated[User, Depends(get_page_user)]


def render(request: Request, template: str, *, user: User | None = None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """Render `template` in the request's language with the common context."""
    user = user or getattr(request.state, "user", None)
    locale = request_locale(request, user)
    translations = get_translations(locale)
    flash = _read_flash(request)
    if flash is not None:
        if not context.get("error"):
            context["error"] = flash["error"]
        if not context.get("form"):
            context["form"] = flash["form"]
    base = {
        "request": request,
        "user": user,
        "locale": locale,
        "locales": LOCALE_NAMES,
        "_": translations.gettext,
        "ngettext": translations.ngettext,
        "flash": flash,
    }
    response = templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path=flash["path"])
    return response


def redirect_after_error(url: str, *, error: str, form: dict[str, Any] | None = None,
                         shown_at: str | None = None) -> RedirectResponse:
    """Redirect (303) to `url`, whose page (or the fragment at path `shown_at`) shows `error` once and refills its
    form from `form`: templates rendered there get them as `error` and `form` unless the view sets those."""
    path = shown_at or url.split("#", 1)[0].split("?", 1)[0]
    fields = {str(k)[:100]: str(v)[:FLASH_FIELD_CHARS] for k, v in (form or {}).items() if v is not None}
    payload = json.dumps({"path": path, "error": error[:FLASH_FIELD_CHARS], "form": fields}, ensure_ascii=False)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLASH_COOKIE, base64.urlsafe_b64encode(payload.encode()).decode(), max_age=120, path=path,
                        httponly=True, samesite="lax")
    return response


def _read_flash(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(data, dict) or data.get("path") != request.url.path:
        return None
    form = data.get("form")
    return {"path": data["path"], "error": str(data.get("error", "")),
            "form": {str(k): str(v) for k, v in form.items()} if isinstance(form, dict) else {}}
