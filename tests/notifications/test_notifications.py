"""Webhooks and e-mails leave through the outbox: signed, retried with backoff, logged, never lost."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from mlpilot.core import jobs
from mlpilot.core.allowlist import build_allowlist
from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.migrations import upgrade_database
from mlpilot.notifications import senders, service
from mlpilot.notifications.models import Delivery
from mlpilot.notifications.worker import Notifier
from tests.conftest import DatabaseFactory, make_settings

# What an admin allows when the receivers run on this machine: loopback hosts.
GUARD = build_allowlist(roots=[], reserved=[], hosts=["127.0.0.1", "localhost", "::1"])


class Receiver:
    """A real local HTTP server recording webhook calls; answers `fail_first` calls with HTTP 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"headers": dict(self.headers), "body": body})
                status = 500 if len(receiver.calls) <= receiver.fail_first else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def nruntime(tmp_path: Path, dialect: str, databases: DatabaseFactory, smtp_port: int) -> Iterator[Runtime]:
    settings = make_settings(tmp_path, databases.new_url(dialect), notifications={
        "enabled": False, "max_attempts": 3, "retry_base_delay_s": 0, "timeout_s": 5,
        "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_from": "mlpilot@example.com"})
    runtime = Runtime.from_settings(settings)
    upgrade_database(runtime.engine)
    yield runtime
    runtime.close()


def publish(runtime: Runtime, event: str, payload: dict[str, Any]) -> None:
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        service.publish(session, event, payload)


def deliveries(runtime: Runtime) -> list[Delivery]:
    with session_scope(runtime.sessions) as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def deliver(runtime: Runtime) -> int:
    with session_scope(runtime.sessions) as session:
        return service.deliver_due(session, settings=runtime.settings)


def test_webhook_is_signed_and_delivered_once(nruntime: Runtime, receiver: Receiver) -> None:
    with session_scope(nruntime.sessions) as session:
        service.create_subscription(session, guard=GUARD, name="ops", channel="webhook", target=receiver.url,
                                    events=["alert.fired"], secret="s3cret", settings=nruntime.settings)
        service.create_subscription(session, guard=GUARD, name="deploys", channel="webhook", target=receiver.url,
                                    events=["deployment.changed"], secret="")
    publish(nruntime, "alert.fired", {"rule": "p95 latency", "value": 812.5})
    assert deliver(nruntime) == 1
    assert deliver(nruntime) == 0  # nothing sent twice
    [call] = receiver.calls
    assert senders.verify("s3cret", call["body"], call["headers"][senders.SIGNATURE_HEADER])
    assert not senders.verify("wrong", call["body"], call["headers"][senders.SIGNATURE_HEADER])
    body = json.loads(call["body"])
    assert body["event"] == "alert.fired" and body["payload"] == {"rule": "p95 latency", "value": 812.5}
    assert call["headers"][senders.EVENT_HEADER] == "alert.fired"
    [row] = deliveries(nruntime)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 1, 200)


def test_an_event_of_a_rolled_back_transaction_is_never_sent(nruntime: Runtime, receiver: Receiver) -> None:
    with session_scope(nruntime.sessions) as session:
        service.create_subscription(session, guard=GUARD,
                                    name="all", channel="webhook", target=receiver.url, events=["*"])
    with session_scope(nruntime.sessions) as session, pytest.raises(RuntimeError):
        with unit_of_work(session):
            service.publish(session, "job.finished", {"job": 1})
            raise RuntimeError("the caller's change failed")
    assert deliveries(nruntime) == [] and deliver(nruntime) == 0 and receiver.calls == []


def test_failing_endpoint_is_retried_then_marked_failed(nruntime: Runtime) -> None:
    flaky = Receiver(fail_first=1)
    down = Receiver(fail_first=100)
    try:
        with session_scope(nruntime.sessions) as session:
            service.create_subscription(session, guard=GUARD,
                                        name="flaky", channel="webhook", target=flaky.url, events=["*"])
            service.create_subscription(session, guard=GUARD,
                                        name="down", channel="webhook", target=down.url, events=["*"])
        publish(nruntime, "job.finished", {"job": 7, "state": "succeeded"})
        for _ in range(3):
            deliver(nruntime)
        first, second = deliveries(nruntime)
        assert (first.state, first.attempts, first.last_status) == ("delivered", 2, 200)
        assert (second.state, second.attempts, second.last_status) == ("failed", 3, 500)
        assert "HTTP 500" in second.last_error
        assert len(flaky.calls) == 2 and len(down.calls) == 3
        with session_scope(nruntime.sessions) as session:
            log = service.list_deliveries(session, state="failed")
            assert [d.event for d in log] == ["job.finished"]
            service.retry_delivery(session, delivery_id=second.id)
        assert deliveries(nruntime)[1].state == "pending"
    finally:
        flaky.close()
        down.close()


def test_unreachable_webhook_records_the_error_and_backs_off(tmp_path: Path, dialect: str,
                                                            databases: DatabaseFactory) -> None:
    settings = make_settings(tmp_path, databases.new_url(dialect), notifications={
        "enabled": False, "max_attempts": 5, "retry_base_delay_s": 3600, "timeout_s": 2})
    runtime = Runtime.from_settings(settings)
    upgrade_database(runtime.engine)
    try:
        with session_scope(runtime.sessions) as session:
            service.create_subscription(session, guard=GUARD, name="gone", channel="webhook",
                                        target=f"http://127.0.0.1:{free_port()}/x", events=["*"])
        publish(runtime, "deployment.changed", {"service": "churn"})
        assert deliver(runtime) == 0
        assert deliver(runtime) == 0  # backing off: not due again yet
        [row] = deliveries(runtime)
        assert row.state == "pending" and row.attempts == 1 and "ConnectError" in row.last_error
    finally:
        runtime.close()


def test_email_goes_out_over_smtp_and_survives_the_server_being_down(nruntime: Runtime, smtp_port: int) -> None:
    with session_scope(nruntime.sessions) as session:
        service.create_subscription(session, guard=GUARD, name="oncall", channel="email", target="oncall@example.com",
                                    events=["alert.fired"])
    publish(nruntime, "alert.fired", {"title": "error rate above 5%", "service": "churn"})
    # No SMTP server yet: the attempt fails, is recorded and stays pending.
    assert deliver(nruntime) == 0
    [row] = deliveries(nruntime)
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert deliver(nruntime) == 1
    finally:
        controller.stop()
    [message] = inbox.messages
    assert message.mail_from == "mlpilot@example.com" and message.rcpt_tos == ["oncall@example.com"]
    text = message.content.decode()
    assert "Subject: [mlpilot] error rate above 5%" in text and "service: churn" in text
    assert deliveries(nruntime)[0].state == "delivered"


def test_background_notifier_delivers(nruntime: Runtime, receiver: Receiver) -> None:
    with session_scope(nruntime.sessions) as session:
        service.create_subscription(session, guard=GUARD,
                                    name="all", channel="webhook", target=receiver.url, events=["*"])
    publish(nruntime, "scoring.finished", {"run": 1})
    notifier = Notifier(nruntime, interval_s=0.05)
    notifier.start()
    try:
        for _ in range(400):
            if receiver.calls:
                break
            time.sleep(0.05)
    finally:
        notifier.stop()
    assert len(receiver.calls) == 1


def test_subscription_api_and_clear_errors(client: TestClient, receiver: Receiver) -> None:
    made = client.post("/api/v1/notifications/subscriptions",
                       json={"name": "ops", "channel": "webhook", "target": receiver.url, "secret": "k"})
    assert made.status_code == 201, made.text
    assert made.json()["events"] == ["*"] and "secret" not in made.json() and made.json()["has_secret"] is True
    bad = client.post("/api/v1/notifications/subscriptions",
                      json={"name": "x", "channel": "webhook", "target": "ftp://nope"})
    assert bad.status_code == 422 and "http(s) URL" in bad.text
    bad = client.post("/api/v1/notifications/subscriptions",
                      json={"name": "x", "channel": "email", "target": "not-an-address"})
    assert bad.status_code == 422 and "e-mail address" in bad.text
    assert [s["name"] for s in client.get("/api/v1/notifications/subscriptions").json()] == ["ops"]
    assert client.get("/api/v1/notifications/deliveries").json() == []
    assert client.delete(f"/api/v1/notifications/subscriptions/{made.json()['id']}").status_code == 204
    assert client.get("/api/v1/notifications/subscriptions").json() == []


@jobs.job_handler("test.notify.ok")
def _notify_ok(ctx: jobs.JobContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"rows": params["rows"]}


@jobs.job_handler("test.notify.fail")
def _notify_fail(ctx: jobs.JobContext, params: dict[str, Any]) -> None:
    raise InvalidInput("column 'amount' is missing in row 12")


def test_every_finished_job_is_published_as_a_signed_webhook(nruntime: Runtime, receiver: Receiver) -> None:
    nruntime.start_executor()
    with session_scope(nruntime.sessions) as session:
        service.create_subscription(session, guard=GUARD, name="jobs", channel="webhook", target=receiver.url,
                                    events=["job.finished"], secret="jobs-secret", settings=nruntime.settings)
    ids = []
    for kind, params in (("test.notify.ok", {"rows": 42}), ("test.notify.fail", {})):
        with session_scope(nruntime.sessions) as session:
            ids.append(jobs.create_job(session, runtime=nruntime, kind=kind, params=params, project_id=7).id)
        jobs.wait_for_job(nruntime, ids[-1], timeout=30)
    assert deliver(nruntime) == 2
    bodies = []
    for call in receiver.calls:
        assert senders.verify("jobs-secret", call["body"], call["headers"][senders.SIGNATURE_HEADER])
        assert call["headers"][senders.EVENT_HEADER] == "job.finished"
        bodies.append(json.loads(call["body"])["payload"])
    ok, failed = sorted(bodies, key=lambda p: p["job_id"])
    assert (ok["job_id"], ok["kind"], ok["state"], ok["result"], ok["project_id"]) == (
        ids[0], "test.notify.ok", "succeeded", {"rows": 42}, 7)
    assert ok["duration_s"] is not None and ok["duration_s"] >= 0 and ok["error"] is None
    assert (failed["job_id"], failed["state"]) == (ids[1], "failed")
    assert failed["error"] == "column 'amount' is missing in row 12"
    assert "test.notify.fail" in failed["title"] and "failed" in failed["title"]


def test_a_failing_finish_listener_never_leaves_a_job_unfinished(nruntime: Runtime) -> None:
    def broken(session: Any, job: Any) -> None:
        raise RuntimeError("listener bug")

    jobs.on_job_finished(broken)
    try:
        nruntime.start_executor()
        with session_scope(nruntime.sessions) as session:
            job_id = jobs.create_job(session, runtime=nruntime, kind="test.notify.ok", params={"rows": 1}).id
        assert jobs.wait_for_job(nruntime, job_id, timeout=30).state == "succeeded"
    finally:
        jobs._finish_listeners.remove(broken)


def test_webhook_secrets_are_stored_only_encrypted(nruntime: Runtime, receiver: Receiver) -> None:
    from sqlalchemy import text

    with session_scope(nruntime.sessions) as session:
        sub = service.create_subscription(session, guard=GUARD, name="ops", channel="webhook", target=receiver.url,
                                          events=["*"], secret="very-secret-signing-key", settings=nruntime.settings)
        sub_id = sub.id
        with pytest.raises(InvalidInput, match="stored encrypted"):
            service.create_subscription(session, guard=GUARD,
                                        name="x", channel="webhook", target=receiver.url, events=["*"],
                                        secret="k")
    with nruntime.engine.connect() as conn:
        raw = conn.execute(text("SELECT secret FROM notification_subscriptions WHERE id = :i"), {"i": sub_id}).scalar()
    assert raw and "very-secret-signing-key" not in raw
    publish(nruntime, "alert.fired", {"rule": "x"})
    assert deliver(nruntime) == 1
    [call] = receiver.calls
    assert senders.verify("very-secret-signing-key", call["body"], call["headers"][senders.SIGNATURE_HEADER])
    # A changed installation key cannot read the secret: the delivery records why instead of sending unsigned.
    from cryptography.fernet import Fernet

    (Path(nruntime.settings.data_dir) / "secret.key").write_bytes(Fernet.generate_key())
    publish(nruntime, "alert.fired", {"rule": "y"})
    assert deliver(nruntime) == 0
    failed = [d for d in deliveries(nruntime) if d.state != "delivered"]
    assert failed and "cannot be decrypted" in failed[0].last_error and len(receiver.calls) == 1
