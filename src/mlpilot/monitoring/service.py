"""Use cases of the monitoring domain: run the inference-log sink and compute metrics per service."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.core.db import utcnow
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.monitoring import metrics
from mlpilot.monitoring.models import InferenceLog
from mlpilot.monitoring.sink import InferenceSink, SinkStats

SINK_KEY = "inference_sink"
# Window → (length, bucket size in seconds): about 60–100 points per chart.
WINDOWS: dict[str, tuple[dt.timedelta, int]] = {
    "1h": (dt.timedelta(hours=1), 60),
    "24h": (dt.timedelta(hours=24), 900),
    "7d": (dt.timedelta(days=7), 7200),
}


def start_inference_sink(runtime: Runtime) -> InferenceSink:
    """Start the buffered inference-log sink and return it (the running one, if started before)."""
    sink: InferenceSink | None = runtime.extras.get(SINK_KEY)
    if sink is None:
        serving = runtime.settings.serving
        sink = InferenceSink(runtime.sessions, capacity=serving.telemetry_buffer,
                             flush_seconds=serving.telemetry_flush_seconds)
        runtime.extras[SINK_KEY] = sink
    sink.start()
    return sink


def stop_inference_sink(runtime: Runtime) -> None:
    """Stop the sink and store what it still holds."""
    sink: InferenceSink | None = runtime.extras.get(SINK_KEY)
    if sink is not None:
        sink.stop()


def flush_inference_sink(runtime: Runtime) -> int:
    """Store buffered inference records now (tests, the demo, shutdown); return how many."""
    sink: InferenceSink | None = runtime.extras.get(SINK_KEY)
    return sink.flush() if sink is not None else 0


def get_sink_stats(runtime: Runtime) -> SinkStats | None:
    """Return the sink's counters (accepted, dropped, written, lost, queued), if a sink runs."""
    sink: InferenceSink | None = runtime.extras.get(SINK_KEY)
    return sink.stats() if sink is not None else None


def resolve_window(window: str) -> tuple[dt.timedelta, int]:
    """Return (length, bucket seconds) of a named window."""
    if window not in WINDOWS:
        raise InvalidInput(f"Unknown window {window!r}; expected one of: {', '.join(WINDOWS)}.")
    return WINDOWS[window]


def _log_frame(session: Session, *, service_names: list[str], since: dt.datetime,
               until: dt.datetime) -> Any:
    stmt = (select(InferenceLog.service, InferenceLog.ts, InferenceLog.latency_ms, InferenceLog.status_code,
                   InferenceLog.rows)
            .where(InferenceLog.service.in_(service_names), InferenceLog.ts >= since, InferenceLog.ts <= until,
                   InferenceLog.role != "shadow"))
    return metrics.log_frame([tuple(row) for row in session.execute(stmt)])


def service_metrics(session: Session, *, service_name: str, since: dt.datetime, bucket_seconds: int,
                    until: dt.datetime | None = None) -> dict[str, Any]:
    """Return totals and a bucketed series of requests, errors, rows and latency for one service."""
    until = until or utcnow()
    frame = _log_frame(session, service_names=[service_name], since=since, until=until)
    result = metrics.compute_metrics(frame, since=since, until=until, bucket_seconds=bucket_seconds).to_dict()
    return {"service": service_name, **result}


def window_metrics(session: Session, *, service_name: str, window: str = "1h") -> dict[str, Any]:
    """Return service_metrics over a named window (1h, 24h, 7d) ending now."""
    length, bucket_seconds = resolve_window(window)
    now = utcnow()
    return {"window": window, **service_metrics(session, service_name=service_name, since=now - length,
                                                bucket_seconds=bucket_seconds, until=now)}


def summarize_services(session: Session, *, service_names: list[str],
                       since: dt.datetime) -> dict[str, dict[str, Any]]:
    """Return totals since `since` for each named service (zeros for services without traffic)."""
    if not service_names:
        return {}
    frame = _log_frame(session, service_names=service_names, since=since, until=utcnow())
    per_service = metrics.totals_by_service(frame)
    empty = metrics.compute_totals(frame.clear())
    return {name: asdict(per_service.get(name, empty)) for name in service_names}


def overview(session: Session, *, window: str = "24h") -> dict[str, Any]:
    """All services at once: totals per service, backend and role, and requests per service over time.

    Shadow rows are listed as their own backend lines (role "shadow") and left out of the per-service series.
    """
    length, bucket_seconds = resolve_window(window)
    until = utcnow()
    since = until - length
    stmt = (select(InferenceLog.service, InferenceLog.backend, InferenceLog.role, InferenceLog.model_version,
                   InferenceLog.ts, InferenceLog.latency_ms, InferenceLog.status_code, InferenceLog.rows)
            .where(InferenceLog.ts >= since, InferenceLog.ts <= until))
    raw = list(session.execute(stmt))
    keyed = [("\x1f".join((s, b or v or "", r or "primary")), ts, lat, code, n)
             for s, b, r, v, ts, lat, code, n in raw]
    per_backend = metrics.totals_by_service(metrics.log_frame(keyed))
    backends = []
    for key, totals in sorted(per_backend.items()):
        name, backend, role = key.split("\x1f")
        backends.append({"service": name, "backend": backend, "role": role, **asdict(totals)})
    client = [(s, ts, lat, code, n) for s, b, r, v, ts, lat, code, n in raw if r != "shadow"]
    frame = metrics.log_frame(client)
    series: dict[str, list[dict[str, Any]]] = {}
    for name in sorted({row[0] for row in client}):
        sub = frame.filter(frame["service"] == name).drop("service")
        series[name] = [asdict(b) for b in metrics.compute_series(sub, since=since, until=until,
                                                                  bucket_seconds=bucket_seconds)]
    return {"window": window, "since": since, "until": until, "bucket_seconds": bucket_seconds,
            "backends": backends, "series": series}
