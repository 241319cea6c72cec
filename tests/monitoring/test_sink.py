"""The inference-log sink stores telemetry in batches off the request path and drops, counted, when full."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import func, select

from mlpilot.core.db import session_scope, utcnow
from mlpilot.core.runtime import Runtime
from mlpilot.dataplane.telemetry import InferenceEvent
from mlpilot.monitoring import service as monitoring_service
from mlpilot.monitoring.models import InferenceLog
from mlpilot.monitoring.sink import InferenceSink


def event(service: str = "svc", status: int = 200, latency: float = 5.0, ago: float = 0.0) -> InferenceEvent:
    return InferenceEvent(service=service, model_version="1", ts=utcnow() - dt.timedelta(seconds=ago),
                          latency_ms=latency, status_code=status, rows=2, error=None if status < 400 else "bad")


def count(runtime: Runtime) -> int:
    with session_scope(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(InferenceLog))


def test_records_reach_the_database_after_flush_and_on_stop(runtime: Runtime) -> None:
    sink = runtime.dataplane.sink
    assert sink is runtime.parts[monitoring_service.SINK_KEY] and sink.running
    for latency in (1.0, 2.0, 3.0):
        sink.put(event(latency=latency))
    sink.put(event(status=400))
    # The background thread may have written some already; after a flush all four are stored.
    monitoring_service.flush_inference_sink(runtime)
    assert count(runtime) == 4
    sink.put(event())
    monitoring_service.stop_inference_sink(runtime)
    assert not sink.running and count(runtime) == 5
    stats = monitoring_service.get_sink_stats(runtime)
    assert (stats.accepted, stats.written, stats.dropped, stats.queued) == (5, 5, 0, 0)
    monitoring_service.start_inference_sink(runtime)
    assert sink.running

    with session_scope(runtime.sessions) as session:
        result = monitoring_service.service_metrics(session, service_name="svc", since=utcnow() - dt.timedelta(hours=1),
                                                    bucket_seconds=60)
        summary = monitoring_service.summarize_services(session, service_names=["svc", "idle"],
                                                        since=utcnow() - dt.timedelta(hours=1))
    assert result["totals"]["requests"] == 5 and result["totals"]["errors"] == 1
    assert sum(b["requests"] for b in result["series"]) == 5
    assert summary["svc"].rows == 10 and summary["idle"].requests == 0


def test_background_thread_writes_on_its_own(runtime: Runtime) -> None:
    sink = InferenceSink(runtime.sessions, capacity=100, flush_seconds=0.05)
    sink.start()
    try:
        sink.put(event(service="timed"))
        for _ in range(200):
            if sink.stats().written:
                break
            time.sleep(0.05)
    finally:
        sink.stop()
    assert sink.stats().written == 1 and count(runtime) == 1


def test_full_buffer_drops_and_counts_without_blocking(runtime: Runtime) -> None:
    sink = InferenceSink(runtime.sessions, capacity=3, flush_seconds=3600)
    for _ in range(10):
        sink.put(event())
    stats = sink.stats()
    assert (stats.accepted, stats.dropped, stats.queued) == (3, 7, 3)
    assert sink.flush() == 3 and count(runtime) == 3


def test_a_restarted_runtime_writes_telemetry_again(runtime: Runtime) -> None:
    from mlpilot.app import start_runtime, stop_runtime

    stop_runtime(runtime)
    start_runtime(runtime)
    assert runtime.dataplane.sink.running
    runtime.dataplane.sink.put(event(service="after-restart"))
    monitoring_service.flush_inference_sink(runtime)
    assert count(runtime) == 1
