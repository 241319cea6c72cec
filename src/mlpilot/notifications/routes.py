"""REST routes of notifications: subscriptions (admin) and the delivery log."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import AdminUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.notifications import service
from mlpilot.notifications.schemas import DeliveryRead, SubscriptionCreate, SubscriptionRead

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("/subscriptions", response_model=list[SubscriptionRead])
def list_subscriptions(session: DbSession, user: AdminUser) -> list[SubscriptionRead]:
    return [SubscriptionRead.model_validate(s) for s in service.list_subscriptions(session)]


@router.post("/subscriptions", response_model=SubscriptionRead, status_code=201)
def create_subscription(body: SubscriptionCreate, session: DbSession, runtime: RuntimeDep,
                        user: AdminUser) -> SubscriptionRead:
    """Subscribe a webhook (signed with `secret`, stored encrypted) or an e-mail address to events."""
    sub = service.create_subscription(session, name=body.name, channel=body.channel, target=body.target,
                                      events=body.events, secret=body.secret, settings=runtime.settings,
                                      guard=runtime.allowlist)
    return SubscriptionRead.model_validate(sub)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(subscription_id: int, session: DbSession, user: AdminUser) -> None:
    service.delete_subscription(session, subscription_id=subscription_id)


@router.get("/deliveries", response_model=list[DeliveryRead])
def list_deliveries(session: DbSession, user: AdminUser, state: str | None = None,
                    limit: int = 100) -> list[DeliveryRead]:
    """The delivery log, newest first: attempts, last status and error per event and recipient."""
    return service.list_deliveries(session, state=state, limit=min(limit, 1000))


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryRead)
def retry_delivery(delivery_id: int, session: DbSession, user: AdminUser) -> DeliveryRead:
    service.retry_delivery(session, delivery_id=delivery_id)
    return next(r for r in service.list_deliveries(session, limit=1000) if r.id == delivery_id)
