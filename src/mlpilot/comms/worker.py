"""The comms loop: sends the weekly digests that are due and retries e-mails the SMTP server refused."""

from __future__ import annotations

from mlpilot.comms import digest, mail
from mlpilot.core.db import session_scope, utcnow
from mlpilot.core.periodic import PeriodicTask
from mlpilot.core.runtime import Runtime

PART_NAME = "comms_mailer"


class CommsMailer(PeriodicTask):
    """Wakes every `interval_s` seconds: due digests are composed and queued, due e-mails are (re)tried."""

    def __init__(self, runtime: Runtime, *, interval_s: float) -> None:
        super().__init__("comms-mailer", self.tick, interval_s=interval_s)
        self.runtime = runtime

    def tick(self) -> int:
        """Return how many e-mails went out."""
        now = utcnow()  # a digest that failed just now waits for its backoff, not for the next line
        with session_scope(self.runtime.sessions) as session:
            sent = digest.send_weekly(session, settings=self.runtime.settings, now=now)
            return sent + mail.send_due(session, settings=self.runtime.settings, now=now)


def start_mailer(runtime: Runtime) -> CommsMailer | None:
    """Start the mailer with the notifier (same switch and interval); starting twice is harmless."""
    settings = runtime.settings.notifications
    if not settings.enabled:
        return None
    mailer = runtime.part(PART_NAME, CommsMailer)
    if mailer is None:
        mailer = CommsMailer(runtime, interval_s=max(settings.interval_s, 5.0))
        mailer.start()
        runtime.parts[PART_NAME] = mailer
    return mailer


def stop_mailer(runtime: Runtime) -> None:
    mailer = runtime.pop_part(PART_NAME, CommsMailer)
    if mailer is not None:
        mailer.stop()
