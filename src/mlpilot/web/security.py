"""Browser-facing protections for every response: security headers and a same-origin check on state changes.

CSRF: a request that changes state and authenticates with the session cookie must come from this site. Browsers
send `Origin` (or at least `Referer`) with every cross-site POST, so a request whose Origin or Referer names
another site is refused; bearer-token calls (the CLI, scripts) carry no cookie and are exempt.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlpilot.accounts.deps import SESSION_COOKIE

SAFE_METHODS = frozenset({b"GET", b"HEAD", b"OPTIONS"})
# Inline scripts are not needed by any page (charts and auto-submit live in /static/mlpilot.js); inline styles
# are, for widths of bars and chart boxes.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
# The API reference page (Swagger UI) starts itself with an inline script and shows no user content.
DOCS_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
COMMON_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                  (b"referrer-policy", b"same-origin")]


def _origin_of(value: str) -> str | None:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class BrowserSecurity:
    """ASGI middleware: same-origin check on cookie-authenticated state changes, security headers on answers."""

    def __init__(self, app: ASGIApp, *, public_url: str | None = None) -> None:
        self.app = app
        self.public_origin = _origin_of(public_url) if public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/v2/"):
            await self.app(scope, receive, send)  # the inference hot path: bearer tokens only, no pages
            return
        headers = dict(scope["headers"])
        if scope["method"].encode() not in SAFE_METHODS and self._cross_site(scope, headers):
            await self._refuse(send)
            return
        csp = (DOCS_CSP if scope["path"] == "/docs" else PAGE_CSP).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *COMMON_HEADERS,
                                      (b"content-security-policy", csp)]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cross_site(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        cookie = headers.get(b"cookie", b"").decode("latin-1")
        if f"{SESSION_COOKIE}=" not in cookie or headers.get(b"authorization", b"").lower().startswith(b"bearer "):
            return False
        claimed = headers.get(b"origin") or headers.get(b"referer")
        if not claimed:
            return False  # not sent by a browser on another site (they always send one of them with a POST)
        origin = _origin_of(claimed.decode("latin-1"))
        host = headers.get(b"host", b"").decode("latin-1").lower()
        own = {f"{scope.get('scheme', 'http')}://{host}"} | ({self.public_origin} if self.public_origin else set())
        return origin not in own

    @staticmethod
    async def _refuse(send: Send) -> None:
        body = (b'{"type":"https://mlpilot.dev/problems/permissiondenied","title":"Permission denied","status":403,'
                b'"detail":"This request came from another site; reload the page and try again."}')
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode()), *COMMON_HEADERS]})
        await send({"type": "http.response.body", "body": body})
