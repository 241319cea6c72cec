"""How one delivery leaves the building: a signed HTTP POST or an SMTP e-mail. No database here."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Mlpilot-Signature"
EVENT_HEADER = "X-Mlpilot-Event"
DELIVERY_HEADER = "X-Mlpilot-Delivery"


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status: int | None = None
    error: str | None = None


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value: `sha256=<hex HMAC-SHA256 of the body with the secret>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Check a signature header (what a receiver does), in constant time."""
    return hmac.compare_digest(sign(secret, body), header or "")


def envelope(*, delivery_id: int, event_id: int, event: str, created_at: str, payload: dict[str, Any]) -> bytes:
    """The JSON body of a webhook call."""
    return json.dumps({"id": event_id, "delivery": delivery_id, "event": event, "created_at": created_at,
                       "payload": payload}, sort_keys=True, default=str).encode()


def send_webhook(url: str, *, body: bytes, event: str, delivery_id: int, secret: str,
                 timeout_s: float) -> SendResult:
    """POST `body` to `url`; any 2xx is delivered, anything else (or no answer) is retried later."""
    headers = {"Content-Type": "application/json", EVENT_HEADER: event, DELIVERY_HEADER: str(delivery_id),
               "User-Agent": "mlpilot-webhooks"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:1000])
    if 200 <= response.status_code < 300:
        return SendResult(True, response.status_code)
    return SendResult(False, response.status_code, f"HTTP {response.status_code}: {response.text[:300]}")


@dataclass(frozen=True)
class SmtpConfig:
    host: str | None
    port: int
    sender: str
    tls: str  # none | starttls | ssl
    username: str | None
    password: str | None
    timeout_s: float


def send_email(config: SmtpConfig, *, to: str, subject: str, text: str) -> SendResult:
    """Send one plain-text e-mail; a refused or unreachable server is a failed attempt (retried later)."""
    if not config.host:
        return SendResult(False, None, "E-mail is not configured: set MLPILOT_NOTIFICATIONS__SMTP_HOST.")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config.sender, to, subject
    message.set_content(text)
    try:
        if config.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_s,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
        with client:
            if config.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config.username:
                client.login(config.username, config.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:1000])
    return SendResult(True, 250)
