"""Web page of notifications: who hears about which events (webhooks, e-mail) and how deliveries went."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import Role
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import MlpilotError, PermissionDenied
from mlpilot.notifications import service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


def _require_admin(user: Any) -> None:
    if user.role != Role.admin:
        raise PermissionDenied("Only administrators manage notifications.")


def _page(request: Request, session: Any, user: Any, *, error: str | None = None, form: dict[str, Any] | None = None,
          status_code: int = 200) -> HTMLResponse:
    response = render(request, "notifications/list.html", user=user,
                      subscriptions=service.list_subscriptions(session),
                      deliveries=service.list_deliveries(session, limit=50), events=service.EVENTS,
                      channels=service.CHANNELS, error=error, form=form or {})
    response.status_code = status_code
    return response


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    _require_admin(user)
    return _page(request, session, user)


@router.post("/notifications/subscriptions", dependencies=[access.AdminOnly])
def create_from_form(request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                     name: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "webhook",
                     target: Annotated[str, Form()] = "", events: Annotated[list[str] | None, Form()] = None,
                     secret: Annotated[str, Form()] = "") -> Response:
    _require_admin(user)
    form = {"name": name, "channel": channel, "target": target, "events": events or []}
    try:
        service.create_subscription(session, name=name, channel=channel, target=target, events=events or ["*"],
                                    secret=secret, settings=runtime.settings,
                                      guard=runtime.allowlist)
    except MlpilotError as exc:
        return _page(request, session, user, error=exc.detail, form=form, status_code=exc.status)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/subscriptions/{subscription_id}/delete", dependencies=[access.AdminOnly])
def delete_from_page(subscription_id: int, request: Request, session: DbSession, user: PageUser) -> Response:
    _require_admin(user)
    try:
        service.delete_subscription(session, subscription_id=subscription_id)
    except MlpilotError as exc:
        return _page(request, session, user, error=exc.detail, status_code=exc.status)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/deliveries/{delivery_id}/retry", dependencies=[access.AdminOnly])
def retry_from_page(delivery_id: int, request: Request, session: DbSession, user: PageUser) -> Response:
    _require_admin(user)
    try:
        service.retry_delivery(session, delivery_id=delivery_id)
    except MlpilotError as exc:
        return _page(request, session, user, error=exc.detail, status_code=exc.status)
    return RedirectResponse("/notifications", status_code=303)
