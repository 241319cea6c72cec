"""The daily rollup of telemetry and feedback: counted once, kept up to date incrementally, safe when refreshes race."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.monitoring import rollups
from mlpilot.monitoring.service import rollup_counts
from tests.value.factories import add_feedback, add_traffic

DAY = dt.date(2026, 3, 31)


def _counts(runtime: Runtime, **kwargs: object) -> list[rollups.Counts]:
    with session_scope(runtime.sessions) as session:
        return rollup_counts(session, service_names=["svc"], first_day=DAY - dt.timedelta(days=1), last_day=DAY,
                             **kwargs)  # type: ignore[arg-type]


def test_rollup_adds_new_rows_and_recounts_replaced_feedback(client: TestClient, runtime: Runtime) -> None:
    add_traffic(runtime, service="svc", day=DAY, requests=5, rows_each=2)
    add_traffic(runtime, service="svc", day=DAY, requests=4, role="shadow")
    add_feedback(runtime, service="svc", day=DAY, right=3, wrong=1)
    assert _counts(runtime) == [rollups.Counts("svc", "2026-03-31", 5, 10, 4, 3)]
    add_traffic(runtime, service="svc", day=DAY - dt.timedelta(days=1), requests=2, rows_each=1)
    add_feedback(runtime, service="svc", day=DAY, right=0, wrong=4)  # the same requests, judged again
    assert sorted(_counts(runtime), key=lambda c: c.period) == [
        rollups.Counts("svc", "2026-03-30", 2, 2, 0, 0), rollups.Counts("svc", "2026-03-31", 5, 10, 4, 0)]
    assert _counts(runtime, by_month=True) == [rollups.Counts("svc", "2026-03", 7, 12, 4, 0)]


def test_a_refresh_that_lost_the_race_counts_nothing_twice(client: TestClient, runtime: Runtime) -> None:
    add_traffic(runtime, service="svc", day=DAY, requests=3)
    with session_scope(runtime.sessions) as slow, session_scope(runtime.sessions) as fast:
        slow_mark = rollups._mark(slow, "logs")  # the slow refresh has read the mark…
        slow.rollback()
        rollups.refresh(fast)  # …when another refresh counts the rows and moves it
        try:
            rollups._move(slow, "logs", slow_mark, slow_mark + 3)
            raced = False
        except rollups._Raced:
            raced = True
        slow.rollback()
    assert raced
    assert _counts(runtime)[0].requests == 3
