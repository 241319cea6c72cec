"""Use cases of notifications: manage subscriptions, publish events into the outbox, deliver due ones.

`publish(session, event, payload)` is what other domains call: it adds the event and one pending delivery per
matching subscription inside the caller's transaction, so nothing is sent for a change that rolled back and
nothing is lost when the process dies before sending. The notifier loop (`worker.py`) sends due deliveries,
retrying with exponential backoff, and every attempt is recorded on the delivery row.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mlpilot.core import jobs
from mlpilot.core.allowlist import AllowList
from mlpilot.core.db import rows_changed, unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.runtime import allowlist_from_settings
from mlpilot.core.secrets import seal_text, unseal_text
from mlpilot.notifications import senders
from mlpilot.notifications.models import Delivery, OutboxEvent, Subscription
from mlpilot.notifications.schemas import DeliveryRead

# Events the platform publishes (others may be added by any domain; "*" subscribes to all).
EVENTS = ("deployment.changed", "alert.fired", "job.finished", "scoring.finished", "risk.raised")
CHANNELS = ("webhook", "email")


def _check_target(channel: str, target: str) -> str:
    target = target.strip()
    if channel == "webhook":
        parsed = urlparse(target)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput(f"Webhook URL {target!r} is not an http(s) URL, e.g. https://example.com/hook.")
    elif channel == "email":
        if "@" not in target or " " in target:
            raise InvalidInput(f"{target!r} is not an e-mail address, e.g. ops@example.com.")
    else:
        raise InvalidInput(f"Unknown channel {channel!r}; expected one of: {', '.join(CHANNELS)}.")
    return target


def create_subscription(session: Session, *, name: str, channel: str, target: str, events: list[str],
                        guard: AllowList, secret: str = "", settings: Any = None) -> Subscription:
    """Subscribe a webhook URL or e-mail address to `events` (["*"] = all).

    The webhook's signing secret is stored only encrypted (the installation's secret key, as connection
    secrets are), so `settings` is needed with a secret.
    """
    if secret and settings is None:
        raise InvalidInput("A webhook secret can only be stored encrypted; the installation settings are needed.")
    target = _check_target(channel, target)
    if channel == "webhook":
        guard.outbound_url(target, field_name="target")
    events = [e.strip() for e in events if e.strip()] or ["*"]
    if not name.strip():
        raise InvalidInput("A subscription needs a name.")
    with unit_of_work(session):
        sub = Subscription(name=name.strip(), channel=channel, target=target, events=events,
                           secret=seal_text(settings, secret) if secret else "")
        session.add(sub)
        session.flush()
    return sub


def list_subscriptions(session: Session) -> list[Subscription]:
    return list(session.scalars(select(Subscription).order_by(Subscription.id)))


def delete_subscription(session: Session, *, subscription_id: int) -> None:
    with unit_of_work(session):
        sub = session.get(Subscription, subscription_id)
        if sub is None:
            raise NotFound(f"Subscription {subscription_id} does not exist.")
        session.delete(sub)


def _matches(sub: Subscription, event: str) -> bool:
    return "*" in (sub.events or []) or event in (sub.events or [])


def publish(session: Session, event: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record `event` and its pending deliveries in the caller's transaction (committed with it)."""
    payload = json.loads(json.dumps(payload, default=str))
    with unit_of_work(session):
        row = OutboxEvent(event=event, payload=payload, created_at=utcnow())
        session.add(row)
        session.flush()
        for sub in session.scalars(select(Subscription).where(Subscription.active.is_(True))):
            if _matches(sub, event):
                session.add(Delivery(event_id=row.id, subscription_id=sub.id, channel=sub.channel,
                                     target=sub.target, next_attempt_at=row.created_at))
    return row


def list_deliveries(session: Session, *, limit: int = 100, state: str | None = None) -> list[DeliveryRead]:
    """Return the delivery log, newest first, with the event name."""
    stmt = (select(Delivery, OutboxEvent.event).join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
            .order_by(Delivery.id.desc()).limit(limit))
    if state:
        stmt = stmt.where(Delivery.state == state)
    return [DeliveryRead(id=d.id, event=name, event_id=d.event_id, subscription_id=d.subscription_id,
                         channel=d.channel, target=d.target, state=d.state, attempts=d.attempts,
                         next_attempt_at=d.next_attempt_at, last_status=d.last_status, last_error=d.last_error,
                         created_at=d.created_at, delivered_at=d.delivered_at)
            for d, name in session.execute(stmt)]


def smtp_config(settings: Any) -> senders.SmtpConfig:
    n = settings.notifications
    return senders.SmtpConfig(host=n.smtp_host, port=n.smtp_port, sender=n.smtp_from, tls=n.smtp_tls,
                              username=n.smtp_username,
                              password=n.smtp_password.get_secret_value() if n.smtp_password else None,
                              timeout_s=n.timeout_s)


def _email_text(event: OutboxEvent) -> tuple[str, str]:
    payload = event.payload or {}
    title = payload.get("title") or payload.get("message") or event.event
    lines = [f"Event: {event.event}", f"Time: {event.created_at.isoformat()}", ""]
    lines += [f"{key}: {value}" for key, value in sorted(payload.items())]
    return f"[mlpilot] {title}"[:200], "\n".join(lines) + "\n"


def _send(settings: Any, delivery: Delivery, event: OutboxEvent, secret: str) -> senders.SendResult:
    if delivery.channel == "webhook":
        # Again at every send: the name may resolve elsewhere now, or the admin may have narrowed the allow-list.
        allowlist_from_settings(settings).outbound_url(delivery.target, field_name="webhook")
        body = senders.envelope(delivery_id=delivery.id, event_id=event.id, event=event.event,
                                created_at=event.created_at.isoformat(), payload=event.payload or {})
        return senders.send_webhook(delivery.target, body=body, event=event.event, delivery_id=delivery.id,
                                    secret=secret, timeout_s=settings.notifications.timeout_s)
    subject, text = _email_text(event)
    return senders.send_email(smtp_config(settings), to=delivery.target, subject=subject, text=text)


def deliver_due(session: Session, *, settings: Any, now: dt.datetime | None = None, limit: int = 50) -> int:
    """Try every pending delivery whose time has come once; return how many were delivered.

    Each delivery is claimed with a conditional UPDATE (bumping its next try) so two notifiers never send
    the same one at once; the outcome is written right after the attempt.
    """
    now = now or utcnow()
    conf = settings.notifications
    due = list(session.scalars(select(Delivery.id).where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
                               .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)))
    delivered = 0
    for delivery_id in due:
        with unit_of_work(session):
            lease = now + dt.timedelta(seconds=conf.timeout_s * 3 + 30)
            claimed = rows_changed(session, update(Delivery).where(
                Delivery.id == delivery_id, Delivery.state == "pending", Delivery.next_attempt_at <= now)
                .values(next_attempt_at=lease))
        if not claimed:
            continue
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None  # claimed just above; deliveries are never deleted
        session.refresh(delivery)
        event = session.get(OutboxEvent, delivery.event_id)
        assert event is not None  # a delivery's event is kept while the delivery is
        sub = session.get(Subscription, delivery.subscription_id) if delivery.subscription_id else None
        try:
            secret = unseal_text(settings, sub.secret, what=f"webhook {sub.name!r} secret") if sub is not None else ""
        except InvalidInput as exc:
            result = senders.SendResult(False, None, exc.detail)
        else:
            result = _send(settings, delivery, event, secret)
        with unit_of_work(session):
            delivery.attempts += 1
            delivery.last_status = result.status
            if result.ok:
                delivery.state, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), None
                delivered += 1
            else:
                delivery.last_error = result.error
                if delivery.attempts >= conf.max_attempts:
                    delivery.state = "failed"
                else:
                    delay = conf.retry_base_delay_s * 2 ** (delivery.attempts - 1)
                    delivery.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
    return delivered


def retry_delivery(session: Session, *, delivery_id: int) -> Delivery:
    """Put a failed delivery back in the queue for an immediate try."""
    with unit_of_work(session):
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            raise NotFound(f"Delivery {delivery_id} does not exist.")
        delivery.state, delivery.next_attempt_at, delivery.attempts = "pending", utcnow(), 0
    return delivery


@jobs.on_job_finished
def publish_job_finished(session: Session, job: jobs.Job) -> None:
    """Publish `job.finished` for every background job (training, ingest, scoring...) as it ends."""
    started = job.started_at or job.created_at
    finished = job.finished_at or utcnow()
    duration = (finished - started).total_seconds() if started is not None else None
    result = job.result or {}
    small_result = result if len(json.dumps(result, default=str)) <= 2000 else {"keys": sorted(result)[:50]}
    publish(session, "job.finished", {
        "title": f"Job {job.id} ({job.kind}) {job.state}", "job_id": job.id, "kind": job.kind,
        "state": str(job.state), "project_id": job.project_id,
        "duration_s": None if duration is None else round(duration, 3), "error": job.error,
        "message": job.message, "result": small_result})
