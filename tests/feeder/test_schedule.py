"""Cron schedules: validation messages, next run times in UTC and other zones, missed slots coalesced."""

from __future__ import annotations

import datetime as dt

import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.feeder import schedule

UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_check_schedule_normalises_spaces() -> None:
    assert schedule.check_schedule("  */15   * * * * ") == "*/15 * * * *"


@pytest.mark.parametrize(("expression", "words"), [
    ("", "expected five fields"),
    ("* * * *", "got 4"),
    ("0 2 * * * *", "got 6"),
    ("61 * * * *", "minute 0-59"),
    ("0 25 * * *", "hour 0-23"),
    ("every day", "expected five fields"),
    ("0 0 30 2 *", "never fires"),
])
def test_check_schedule_rejects_with_a_clear_message(expression: str, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        schedule.check_schedule(expression)
    assert "'schedule'" in err.value.detail and words in err.value.detail


def test_next_run_after_is_strictly_later_and_in_utc() -> None:
    assert schedule.next_run_after("0 2 * * *", at(2026, 11, 23, 1, 59)) == at(2026, 11, 23, 2, 0)
    assert schedule.next_run_after("0 2 * * *", at(2026, 11, 23, 2, 0)) == at(2026, 11, 24, 2, 0)
    assert schedule.next_run_after("*/15 * * * *", at(2026, 11, 23, 10, 7)) == at(2026, 11, 23, 10, 15)


def test_next_run_after_reads_the_expression_in_the_pipeline_time_zone() -> None:
    # 02:00 in Seoul (UTC+9) is 17:00 UTC the day before.
    nxt = schedule.next_run_after("0 2 * * *", at(2026, 11, 23, 0, 0), timezone="Asia/Seoul")
    assert nxt == at(2026, 11, 23, 17, 0)
    assert nxt.tzinfo == UTC


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert schedule.next_run_after("30 * * * *", dt.datetime(2026, 1, 1, 5, 0)) == at(2026, 1, 1, 5, 30)


def test_unknown_time_zone_is_named() -> None:
    with pytest.raises(InvalidInput, match="Mars/Olympus"):
        schedule.next_run_after("* * * * *", at(2026, 1, 1), timezone="Mars/Olympus")


def test_next_run_from_coalesces_slots_missed_while_down() -> None:
    # The 02:00 slot of three days ago is being run now; the next one is tomorrow's, not the two missed ones.
    now = at(2026, 11, 23, 9, 0)
    assert schedule.next_run_from("0 2 * * *", at(2026, 11, 20, 2, 0), now) == at(2026, 11, 24, 2, 0)
    # Run on time: the next slot follows the scheduled one.
    assert schedule.next_run_from("0 * * * *", at(2026, 11, 23, 9, 0), now) == at(2026, 11, 23, 10, 0)


def test_upcoming_runs_lists_consecutive_slots() -> None:
    assert schedule.upcoming_runs("0 6 * * 1-5", at(2026, 11, 27, 7, 0), count=2) == [
        at(2026, 11, 30, 6, 0), at(2026, 12, 1, 6, 0)]  # Friday 07:00 → Monday, Tuesday
