"""The shared background loop: it keeps ticking after a failing tick and stops when asked."""

from __future__ import annotations

import threading
import time

from mlpilot.core.periodic import PeriodicTask


def test_a_failing_tick_is_logged_and_the_loop_goes_on(caplog) -> None:
    calls: list[int] = []
    third = threading.Event()

    def tick() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database briefly away")
        if len(calls) >= 3:
            third.set()

    task = PeriodicTask("probe", tick, interval_s=0.01)
    task.start()
    task.start()  # a second start must not add a second thread
    try:
        assert third.wait(5), "the loop stopped after the failing tick"
    finally:
        task.stop()
    assert "probe tick failed" in caplog.text and "database briefly away" in caplog.text
    assert [t.name for t in threading.enumerate()].count("mlpilot-probe") == 0
    stopped_at = len(calls)
    time.sleep(0.05)
    assert len(calls) == stopped_at
