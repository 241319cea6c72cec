"""E-mails sent from mlpilot to the client, kept in the communication log.

Each e-mail is a row first (pending) and is then sent through the notifications domain's SMTP settings and
sender. A refused or unreachable server is an attempt recorded on the row (and in the server log); the e-mail
stays pending and the comms worker retries it with the notifier's backoff until `max_attempts`, then it is failed.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.comms.models import EmailLog, EmailState
from mlpilot.core.db import rows_changed, unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.notifications import senders
from mlpilot.notifications import service as notifications_service
from mlpilot.projects import service as projects_service
from mlpilot.settings import Settings

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 20
MAX_LISTED = 500


def parse_recipients(raw: str) -> list[str]:
    """Split comma/semicolon/space separated addresses, refusing anything that is not an e-mail address."""
    parts = [p.strip() for p in raw.replace(";", ",").replace("\n", ",").split(",") if p.strip()]
    if not parts:
        raise InvalidInput("No recipient: give at least one e-mail address, e.g. pm@client.example.")
    if len(parts) > MAX_RECIPIENTS:
        raise InvalidInput(f"{len(parts)} recipients; at most {MAX_RECIPIENTS} are allowed.")
    for part in parts:
        local, at, domain = part.partition("@")
        if not at or not local or "." not in domain or " " in part or len(part) > 254:
            raise InvalidInput(f"{part!r} is not an e-mail address, e.g. pm@client.example.")
    return parts


def get_email(session: Session, *, project_id: int, email_id: int) -> EmailLog:
    email = session.get(EmailLog, email_id)
    if email is None or email.project_id != project_id:
        raise NotFound(f"E-mail {email_id} does not exist in project {project_id}.")
    return email


def list_emails(session: Session, *, project_id: int) -> list[EmailLog]:
    """The project's e-mails, newest first."""
    return list(session.scalars(select(EmailLog).where(EmailLog.project_id == project_id)
                                .order_by(EmailLog.id.desc()).limit(MAX_LISTED)))


def queue_email(session: Session, *, project_id: int, user: User | None, recipients: str, subject: str, body: str,
                kind: str = "message") -> EmailLog:
    """Add an e-mail to the log as pending (`user` None: the digest scheduler)."""
    addresses = parse_recipients(recipients)
    subject, body = subject.strip(), body.strip()
    if not subject or len(subject) > 300:
        raise InvalidInput("The subject must be 1 to 300 characters long.")
    if not body:
        raise InvalidInput("The message is empty; write something.")
    with unit_of_work(session):
        if user is not None:
            projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        email = EmailLog(project_id=project_id, kind=kind, recipients=", ".join(addresses), subject=subject,
                         body=body, created_by_id=user.id if user else None, next_attempt_at=utcnow())
        session.add(email)
        session.flush()
    return email


def _attempt(session: Session, *, settings: Settings, email_id: int, now: dt.datetime) -> bool:
    """Claim and send one pending e-mail once; record the outcome. Return whether it went out."""
    conf = settings.notifications
    with unit_of_work(session):
        lease = now + dt.timedelta(seconds=conf.timeout_s * 3 + 30)
        claimed = rows_changed(session, update(EmailLog).where(
            EmailLog.id == email_id, EmailLog.state == EmailState.pending, EmailLog.next_attempt_at <= now)
            .values(next_attempt_at=lease))
    if not claimed:
        return False
    email = session.get(EmailLog, email_id)
    assert email is not None  # claimed just above
    session.refresh(email)
    result = senders.send_email(notifications_service.smtp_config(settings), to=email.recipients,
                                subject=email.subject, text=email.body + "\n")
    with unit_of_work(session):
        email.attempts += 1
        if result.ok:
            email.state, email.sent_at, email.last_error = EmailState.sent, utcnow(), None
            log.info("E-mail %s of project %s sent to %s", email.id, email.project_id, email.recipients)
            return True
        email.last_error = result.error
        if email.attempts >= conf.max_attempts:
            email.state = EmailState.failed
            log.error("E-mail %s of project %s failed after %s attempts: %s", email.id, email.project_id,
                      email.attempts, result.error)
        else:
            delay = conf.retry_base_delay_s * 2 ** (email.attempts - 1)
            email.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
            log.warning("E-mail %s of project %s not sent (attempt %s, retried in %.0f s): %s", email.id,
                        email.project_id, email.attempts, delay, result.error)
    return False


def send_now(session: Session, *, settings: Settings, email: EmailLog) -> EmailLog:
    """Try to send a queued e-mail right away (a failure leaves it pending for the worker's retries)."""
    _attempt(session, settings=settings, email_id=email.id, now=utcnow())
    session.refresh(email)
    return email


def send_due(session: Session, *, settings: Settings, now: dt.datetime | None = None, limit: int = 50) -> int:
    """Try every pending e-mail whose next attempt has come, once; return how many went out."""
    now = now or utcnow()
    due = list(session.scalars(select(EmailLog.id).where(EmailLog.state == EmailState.pending,
                                                         EmailLog.next_attempt_at <= now)
                               .order_by(EmailLog.next_attempt_at, EmailLog.id).limit(limit)))
    return sum(_attempt(session, settings=settings, email_id=email_id, now=now) for email_id in due)


def retry_email(session: Session, *, project_id: int, email_id: int, user: User) -> EmailLog:
    """Put a failed e-mail back in the queue for an immediate try."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        email = get_email(session, project_id=project_id, email_id=email_id)
        if email.state == EmailState.sent:
            raise InvalidInput(f"E-mail {email_id} was already sent.")
        email.state, email.next_attempt_at, email.attempts = EmailState.pending, utcnow(), 0
    return email
