"""Cron schedules of pipelines, pure: validate an expression and compute the next run time with croniter.

Times are aware datetimes; an expression is read in the pipeline's time zone (UTC unless chosen) and every
result is returned in UTC, so the database and the scheduler never deal with local times.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from mlpilot.core.errors import InvalidInput

EXAMPLES = "'*/15 * * * *' (every 15 minutes), '0 2 * * *' (02:00 daily), '0 6 * * 1-5' (06:00 on weekdays)"


def check_timezone(name: str) -> ZoneInfo:
    """Return the zone called `name` or raise InvalidInput naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone {name!r} in field 'timezone'; expected an IANA name such as "
                           "'UTC' or 'Asia/Seoul'.") from None


def check_schedule(expression: str) -> str:
    """Return the normalised cron expression or raise InvalidInput saying what is wrong with it."""
    text = " ".join((expression or "").split())
    fields = text.split(" ") if text else []
    if len(fields) != 5:
        raise InvalidInput(f"Schedule {expression!r} in field 'schedule' is not a cron expression: expected five "
                           f"fields 'minute hour day-of-month month day-of-week', got {len(fields)}; "
                           f"for example {EXAMPLES}.")
    if not croniter.is_valid(text):
        raise InvalidInput(f"Schedule {expression!r} in field 'schedule' is not a valid cron expression; check the "
                           f"ranges (minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6); "
                           f"for example {EXAMPLES}.")
    try:
        croniter(text, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).get_next(dt.datetime)
    except CroniterBadDateError:
        raise InvalidInput(f"Schedule {expression!r} in field 'schedule' never fires (no such date, e.g. "
                           "30 February); pick a day that exists.") from None
    return text


def next_run_after(expression: str, after: dt.datetime, *, timezone: str = "UTC") -> dt.datetime:
    """Return the first time strictly after `after` that the schedule fires, in UTC."""
    zone = check_timezone(timezone)
    if after.tzinfo is None:
        after = after.replace(tzinfo=dt.UTC)
    start = after.astimezone(zone)
    nxt = croniter(check_schedule(expression), start).get_next(dt.datetime)
    return nxt.astimezone(dt.UTC)


def next_run_from(expression: str, scheduled: dt.datetime, now: dt.datetime, *,
                  timezone: str = "UTC") -> dt.datetime:
    """Return the run time that follows the slot `scheduled`, skipping slots already past at `now`.

    Slots missed while the server was down are coalesced into the one run that is starting now, instead of
    replaying each of them.
    """
    nxt = next_run_after(expression, scheduled, timezone=timezone)
    if nxt <= now:
        nxt = next_run_after(expression, now, timezone=timezone)
    return nxt


def upcoming_runs(expression: str, after: dt.datetime, *, count: int = 3, timezone: str = "UTC") -> list[dt.datetime]:
    """Return the next `count` run times after `after`, in UTC (shown next to the schedule in the UI)."""
    times: list[dt.datetime] = []
    current = after
    for _ in range(count):
        current = next_run_after(expression, current, timezone=timezone)
        times.append(current)
    return times
