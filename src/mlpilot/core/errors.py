"""Domain errors as types with an HTTP status, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any


class MlpilotError(Exception):
    """Base of every error a user can act on."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

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
    title = "Invalid input"


class NotFound(MlpilotError):
    status = 404
    title = "Not found"


class Conflict(MlpilotError):
    status = 409
    title = "Conflict"


class Unauthenticated(MlpilotError):
    status = 401
    title = "Authentication required"


class PermissionDenied(MlpilotError):
    status = 403
    title = "Permission denied"


class TooManyRequests(MlpilotError):
    status = 429
    title = "Too many requests"


class PayloadTooLarge(MlpilotError):
    status = 413
    title = "Payload too large"


class Unavailable(MlpilotError):
    status = 503
    title = "Unavailable"
