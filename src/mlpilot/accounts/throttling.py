"""Sign-in throttling: failed attempts counted per user name and per client address over a sliding window."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import LoginFailure
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import TooManyRequests

MAX_NAME = 200


def check_login_allowed(session: Session, *, username: str, address: str, max_failures: int,
                        window: dt.timedelta) -> None:
    """Refuse the attempt when the user name or the address already failed `max_failures` times in the window."""
    since = utcnow() - window
    for column, value, what in ((LoginFailure.username, username[:MAX_NAME], "this user"),
                                (LoginFailure.address, address, "this address")):
        stmt = select(func.count(), func.min(LoginFailure.failed_at)).where(column == value,
                                                                            LoginFailure.failed_at >= since)
        count, oldest = session.execute(stmt).one()
        if count >= max_failures:
            wait = max(1, int(((oldest + window) - utcnow()).total_seconds() // 60) + 1)
            raise TooManyRequests(f"Too many failed sign-ins for {what}; try again in {wait} minute(s).")


def record_login_failure(session: Session, *, username: str, address: str, window: dt.timedelta) -> None:
    """Remember a failed attempt (committed even though the sign-in fails) and forget ones past the window."""
    with unit_of_work(session):
        session.add(LoginFailure(username=username[:MAX_NAME], address=address))
        session.execute(delete(LoginFailure).where(LoginFailure.failed_at < utcnow() - window))


def clear_login_failures(session: Session, *, username: str, address: str) -> None:
    """Forget the failures of a user and address that just signed in."""
    with unit_of_work(session):
        session.execute(delete(LoginFailure).where(or_(LoginFailure.username == username[:MAX_NAME],
                                                       LoginFailure.address == address)))
