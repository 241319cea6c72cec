"""Domain errors as types with an HTTP status, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for extraction, translate later"
    """Mark `message` for the catalog; it is translated where it is shown (see `MlpilotError.localized`)."""
    return message


class MlpilotError(Exception):
    """Base of every error a user can act on."""

    status = 400
    title = N_("Bad request")

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        # The catalog message and its values, when the error can be shown in the page's language.
        self.message: str | None = None
        self.params: dict[str, object] = {}

    @classmethod
    def translatable(cls, message: str, **params: object) -> Self:
        """Build the error from a catalog message (marked with `N_`) with %(name)s placeholders.

        `detail` stays English (the API's problem+json); pages show `localized(gettext)` instead.
        """
        error = cls(message % params)
        error.message, error.params = message, params
        return error

    def localized(self, gettext: Callable[[str], str]) -> str:
        """Return the message in the language of `gettext`, or the English detail if it has no catalog entry."""
        if self.message is None:
            return gettext(self.detail) if self.detail else self.detail
        try:
            return gettext(self.message) % self.params
        except (KeyError, ValueError, TypeError):  # a translation with broken placeholders must not hide the error
            return self.detail

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"https://mlpilot.dev/problems/{type(self).__name__.lower()}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        if self.errors:
            problem["errors"] = self.errors
        return problem


class InvalidInput(MlpilotError):
    status = 422
    title = N_("Invalid input")


class NotFound(MlpilotError):
    status = 404
    title = N_("Not found")


class Conflict(MlpilotError):
    status = 409
    title = N_("Conflict")


class Unauthenticated(MlpilotError):
    status = 401
    title = N_("Authentication required")


class PermissionDenied(MlpilotError):
    status = 403
    title = N_("Permission denied")


class TooManyRequests(MlpilotError):
    status = 429
    title = N_("Too many requests")


class PayloadTooLarge(MlpilotError):
    status = 413
    title = N_("Payload too large")


class Unavailable(MlpilotError):
    status = 503
    title = N_("Unavailable")


REASON_MIN, REASON_MAX = 3, 500


def require_reason(reason: str | None) -> str:
    """Return the stripped reason a risky action (stop, roll back, archive) is confirmed with; refuse a missing one."""
    text = (reason or "").strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise InvalidInput.translatable(
            N_("Give a reason of %(min)d to %(max)d characters to confirm; it is kept in the audit log."),
            min=REASON_MIN, max=REASON_MAX)
    return text
