"""E-mails to the client and the weekly digest over a real local SMTP server (aiosmtpd), and with the server
down: every attempt is recorded on the e-mail and logged, the e-mail is retried and finally marked failed."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from mlpilot.accounts.service import find_user_by_username
from mlpilot.comms import digest, mail
from mlpilot.comms.models import EmailLog
from mlpilot.comms.schemas import DigestScheduleUpdate
from mlpilot.comms.worker import CommsMailer
from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.pmo import service as pmo_service
from mlpilot.projects import service as projects_service
from tests.conftest import DatabaseFactory, make_settings
from tests.notifications.test_notifications import Inbox, free_port


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def mruntime(tmp_path_factory: pytest.TempPathFactory, dialect: str, databases: DatabaseFactory,
             smtp_port: int) -> Iterator[Runtime]:
    """A migrated runtime with an admin whose SMTP server is 127.0.0.1:`smtp_port` (nothing listens there yet)."""
    from mlpilot.app import prepare_runtime

    settings = make_settings(tmp_path_factory.mktemp("comms"), databases.new_url(dialect), notifications={
        "enabled": False, "max_attempts": 3, "retry_base_delay_s": 0, "timeout_s": 5,
        "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_from": "pmo@mlpilot.example"})
    runtime = Runtime.from_settings(settings)
    prepare_runtime(runtime)
    yield runtime
    runtime.close()


@pytest.fixture
def smtp_server(smtp_port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


def new_project(runtime: Runtime, name: str) -> int:
    with session_scope(runtime.sessions) as session:
        admin = find_user_by_username(session, username="admin")
        project = projects_service.create_project(session, name=name, user=admin, client="ACME")
        today = dt.date.today()
        milestone = pmo_service.create_milestone(session, project_id=project.id, user=admin, name="Kick-off",
                                                 start_date=today - dt.timedelta(days=20),
                                                 due_date=today - dt.timedelta(days=10))
        pmo_service.create_task(session, project_id=project.id, user=admin, title="Collect data",
                                milestone_id=milestone.id, start_date=today - dt.timedelta(days=20),
                                due_date=today - dt.timedelta(days=12), status="done",
                                completed_on=today - dt.timedelta(days=12))
        pmo_service.create_task(session, project_id=project.id, user=admin, title="Label data",
                                milestone_id=milestone.id, start_date=today - dt.timedelta(days=12),
                                due_date=today - dt.timedelta(days=2))
        return project.id


def emails(runtime: Runtime, project_id: int) -> list[EmailLog]:
    with session_scope(runtime.sessions) as session:
        return list(reversed(mail.list_emails(session, project_id=project_id)))


def test_an_email_to_the_client_goes_out_over_real_smtp_and_is_kept(mruntime: Runtime, smtp_server: Inbox) -> None:
    project_id = new_project(mruntime, "Mail up")
    with session_scope(mruntime.sessions) as session:
        admin = find_user_by_username(session, username="admin")
        email = mail.queue_email(session, project_id=project_id, user=admin,
                                 recipients="kim@acme.example; lee@acme.example", subject="Minutes of 3 Dec",
                                 body="Attached are the minutes.")
        sent = mail.send_now(session, settings=mruntime.settings, email=email)
        assert sent.state == "sent" and sent.attempts == 1 and sent.sent_at is not None
        with pytest.raises(InvalidInput, match="not an e-mail address"):
            mail.queue_email(session, project_id=project_id, user=admin, recipients="kim at acme", subject="s",
                             body="b")
    [message] = smtp_server.messages
    assert message.mail_from == "pmo@mlpilot.example"
    assert message.rcpt_tos == ["kim@acme.example", "lee@acme.example"]
    assert "Subject: Minutes of 3 Dec" in message.content.decode()
    assert [e.subject for e in emails(mruntime, project_id)] == ["Minutes of 3 Dec"]


def test_weekly_digest_with_the_smtp_server_down_is_retried_logged_then_sent(
        mruntime: Runtime, smtp_port: int, caplog: pytest.LogCaptureFixture) -> None:
    project_id = new_project(mruntime, "Digest down")
    today = dt.date.today()
    with session_scope(mruntime.sessions) as session:
        admin = find_user_by_username(session, username="admin")
        digest.set_schedule(session, project_id=project_id, user=admin, changes=DigestScheduleUpdate(
            recipients="kim@acme.example", weekday=0, locale="ko", enabled=True))
    mailer = CommsMailer(mruntime, interval_s=3600)  # driven by hand: one tick per call
    with caplog.at_level(logging.WARNING, logger="mlpilot.comms.mail"):
        assert mailer.tick() == 0  # the port is closed: nothing listens
    [row] = [e for e in emails(mruntime, project_id) if e.kind == "digest"]
    assert row.state == "pending" and row.attempts == 1 and "Connection" in (row.last_error or "")
    assert any("not sent (attempt 1" in r.getMessage() for r in caplog.records)
    with session_scope(mruntime.sessions) as session:
        assert digest.get_schedule(session, project_id=project_id).last_sent_week == digest.iso_week(today)
    assert mailer.tick() == 0  # retried (backoff 0 s in this installation), still down
    assert emails(mruntime, project_id)[-1].attempts == 2

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert mailer.tick() == 1
        assert mailer.tick() == 0  # this week's digest is not composed twice
    finally:
        controller.stop()
    digests = [e for e in emails(mruntime, project_id) if e.kind == "digest"]
    assert len(digests) == 1 and digests[0].state == "sent" and digests[0].attempts == 3
    [message] = [m for m in inbox.messages if "kim@acme.example" in m.rcpt_tos]
    assert message.mail_from == "pmo@mlpilot.example"
    assert "Digest down" in digests[0].subject and "주간" in digests[0].subject
    body = digests[0].body
    # One of the milestone and its two tasks is done; both open items are late; the figures are in Korean.
    assert "완료: 33.3%, 지연 항목: 2건" in body and "Kick-off" in body and "== 위험 ==" in body


def test_an_email_refused_every_time_ends_failed_and_logged(mruntime: Runtime,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    project_id = new_project(mruntime, "Always down")
    with session_scope(mruntime.sessions) as session:
        admin = find_user_by_username(session, username="admin")
        email = mail.queue_email(session, project_id=project_id, user=admin, recipients="kim@acme.example",
                                 subject="Hello", body="Are you there?")
        mail.send_now(session, settings=mruntime.settings, email=email)
        with caplog.at_level(logging.WARNING, logger="mlpilot.comms.mail"):
            for _ in range(5):
                mail.send_due(session, settings=mruntime.settings)
        session.refresh(email)
        assert email.state == "failed" and email.attempts == 3  # max_attempts of this installation
        assert any("failed after 3 attempts" in r.getMessage() for r in caplog.records)
        retried = mail.retry_email(session, project_id=project_id, email_id=email.id, user=admin)
        assert retried.state == "pending" and retried.attempts == 0
