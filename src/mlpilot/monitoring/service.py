"""Use cases of the monitoring domain: run the inference-log sink and compute metrics per service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.dataplane.telemetry import PredictionLog
from mlpilot.monitoring import live, metrics, rollups
from mlpilot.monitoring.models import Feedback, InferenceLog
from mlpilot.monitoring.schemas import FeedbackResult, LiveDriftRead, MetricsRead, QualityRead
from mlpilot.monitoring.sink import InferenceSink, SinkStats
from mlpilot.serving import service as serving_service

if TYPE_CHECKING:
    from mlpilot.dataplane.server import DataPlane

SINK_KEY = "inference_sink"
# Window → (length, bucket size in seconds): about 60–100 points per chart.
WINDOWS: dict[str, tuple[dt.timedelta, int]] = {
    "1h": (dt.timedelta(hours=1), 60),
    "24h": (dt.timedelta(hours=24), 900),
    "7d": (dt.timedelta(days=7), 7200),
}


def start_inference_sink(runtime: Runtime) -> InferenceSink:
    """Start the buffered inference-log sink and return it (the running one, if started before)."""
    sink = runtime.part(SINK_KEY, InferenceSink)
    if sink is None:
        serving = runtime.settings.serving
        sink = InferenceSink(runtime.sessions, capacity=serving.telemetry_buffer,
                             flush_seconds=serving.telemetry_flush_seconds)
        runtime.parts[SINK_KEY] = sink
    sink.start()
    return sink


def stop_inference_sink(runtime: Runtime) -> None:
    """Stop the sink and store what it still holds."""
    sink = runtime.part(SINK_KEY, InferenceSink)
    if sink is not None:
        sink.stop()


def flush_inference_sink(runtime: Runtime) -> int:
    """Store buffered inference records now (tests, the demo, shutdown); return how many."""
    sink = runtime.part(SINK_KEY, InferenceSink)
    return sink.flush() if sink is not None else 0


def get_sink_stats(runtime: Runtime) -> SinkStats | None:
    """Return the sink's counters (accepted, dropped, written, lost, queued), if a sink runs."""
    sink = runtime.part(SINK_KEY, InferenceSink)
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


def window_metrics(session: Session, *, service_name: str, window: str = "1h") -> MetricsRead:
    """Return service_metrics over a named window (1h, 24h, 7d) ending now."""
    length, bucket_seconds = resolve_window(window)
    now = utcnow()
    return MetricsRead.model_validate({"window": window, **service_metrics(
        session, service_name=service_name, since=now - length, bucket_seconds=bucket_seconds, until=now)})


def summarize_services(session: Session, *, service_names: list[str],
                       since: dt.datetime) -> dict[str, metrics.Totals]:
    """Return totals since `since` for each named service (zeros for services without traffic)."""
    if not service_names:
        return {}
    frame = _log_frame(session, service_names=service_names, since=since, until=utcnow())
    per_service = metrics.totals_by_service(frame)
    empty = metrics.compute_totals(frame.clear())
    return {name: per_service.get(name, empty) for name in service_names}


def overview(session: Session, *, window: str = "24h", services: Collection[str] | None = None) -> dict[str, Any]:
    """All services at once: totals per service, backend and role, and requests per service over time.

    Shadow rows are listed as their own backend lines (role "shadow") and left out of the per-service series.
    """
    length, bucket_seconds = resolve_window(window)
    until = utcnow()
    since = until - length
    stmt = (select(InferenceLog.service, InferenceLog.backend, InferenceLog.role, InferenceLog.model_version,
                   InferenceLog.ts, InferenceLog.latency_ms, InferenceLog.status_code, InferenceLog.rows)
            .where(InferenceLog.ts >= since, InferenceLog.ts <= until))
    if services is not None:  # a non-admin sees only the services of their projects
        stmt = stmt.where(InferenceLog.service.in_(list(services)))
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


def record_feedback(session: Session, *, log: PredictionLog, service_name: str,
                    items: list[dict[str, Any]]) -> FeedbackResult:
    """Join ground truth {"request_id", "actual"} to logged predictions, store the matches; report unknown ids.

    Feedback on a request already answered replaces the earlier feedback. Ids no longer (or never) in the
    data plane's prediction log come back as `unknown`.
    """
    matched: list[tuple[str, dt.datetime, Any, Any]] = []
    unknown: list[str] = []
    for item in items:
        pairs, missing = live.join_feedback(log, service_name, [item])
        unknown.extend(missing)
        matched.extend((str(item["request_id"]), *pair) for pair in pairs)
    rows = [Feedback(service=service_name, request_id=rid[:200], ts=ts,
                     task="regression" if isinstance(predicted, float) else "classification",
                     prediction=str(predicted)[:200], actual=str(actual)[:200])
            for rid, ts, predicted, actual in matched]
    with unit_of_work(session):
        if rows:
            session.execute(delete(Feedback).where(Feedback.service == service_name,
                                                   Feedback.request_id.in_([r.request_id for r in rows])))
        session.add_all(rows)
    return FeedbackResult(service=service_name, matched=len(rows), unknown=unknown)


def quality_since(session: Session, *, service_name: str, since: dt.datetime, bucket_seconds: int,
                  until: dt.datetime | None = None) -> dict[str, Any]:
    """Live quality of predictions made in [since, until] that got feedback: totals and a bucketed series."""
    until = until or utcnow()
    stmt = (select(Feedback.ts, Feedback.prediction, Feedback.actual, Feedback.task)
            .where(Feedback.service == service_name, Feedback.ts >= since, Feedback.ts <= until)
            .order_by(Feedback.ts))
    raw = list(session.execute(stmt))
    task = raw[-1][3] if raw else None  # the newest model's task, should a redeploy have changed it
    pairs = [(ts.replace(tzinfo=dt.UTC) if ts.tzinfo is None else ts, p, a) for ts, p, a, t in raw if t == task]
    if task is None:
        return {"task": None, "totals": {"count": 0, "accuracy": None, "rmse": None, "mae": None}, "series": []}
    series = live.quality_by_window(pairs, task=task, window_s=bucket_seconds)
    span = int((until - since).total_seconds()) + 1
    (total,) = live.quality_by_window([(since, p, a) for _, p, a in pairs], task=task, window_s=span * 2)
    totals = {"count": total["count"], "accuracy": total.get("accuracy"), "rmse": total.get("rmse"),
              "mae": total.get("mae")}
    return {"task": task, "totals": totals, "series": series}


def service_quality(session: Session, *, service_name: str, window: str = "24h") -> QualityRead:
    """Live accuracy (classification) or RMSE and MAE (regression) per bucket of the window, from feedback."""
    length, bucket_seconds = resolve_window(window)
    now = utcnow()
    result = quality_since(session, service_name=service_name, since=now - length, bucket_seconds=bucket_seconds,
                           until=now)
    return QualityRead.model_validate({"service": service_name, "window": window, "bucket_seconds": bucket_seconds,
                                       **result})


def quality_overview(session: Session, *, window: str = "24h",
                     services: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Live quality totals of every service (of `services`, when given) with feedback in the window."""
    length, bucket_seconds = resolve_window(window)
    now = utcnow()
    stmt = select(Feedback.service).where(Feedback.ts >= now - length).distinct()
    if services is not None:
        stmt = stmt.where(Feedback.service.in_(list(services)))
    names = session.scalars(stmt)
    return [{"service": name, **quality_since(session, service_name=name, since=now - length,
                                              bucket_seconds=bucket_seconds, until=now)}
            for name in sorted(names)]


LIVE_DRIFT_MIN_ROWS = 30
_references: dict[tuple[str, float], pl.DataFrame] = {}


def _reference_frame(path: Path) -> pl.DataFrame:
    """Read a model's training reference once per file version (served models change rarely, reads are cheap)."""
    key = (str(path), path.stat().st_mtime)
    frame = _references.get(key)
    if frame is None:
        frame = pl.read_parquet(path)
        if len(_references) > 32:
            _references.clear()
        _references[key] = frame
    return frame


def service_drift(plane: DataPlane, *, service_name: str, min_rows: int = LIVE_DRIFT_MIN_ROWS) -> LiveDriftRead:
    """Live input and prediction drift of `service_name`, per window of sampled traffic, newest last.

    The reference is the training sample saved with the serving model; a model without one (imported from
    elsewhere) is compared with its own first window. `latest` is the newest window with enough rows.
    """
    path = plane.drift_reference(service_name)
    reference = _reference_frame(path) if path is not None else None
    frames = [(start, seen, pl.DataFrame(columns, strict=False))
              for start, seen, columns in plane.traffic.windows(service_name)]
    windows = live.drift_over_windows(frames, reference=reference, min_rows=min_rows)
    judged = [w for w in windows if w["drift"] is not None]
    return LiveDriftRead.model_validate({
        "service": service_name, "reference": "training" if reference is not None else "first_window",
        "window_seconds": plane.traffic.window_s, "min_rows": min_rows, "windows": windows,
        "latest": judged[-1] if judged else None})


@dataclass(frozen=True)
class ServiceTraffic:
    """A service of a project with its recent traffic and latency (for reports)."""

    name: str
    model_version: str | None
    state: str
    requests: int
    errors: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


def summarize_project_services(session: Session, *, project_id: int, hours: int = 24) -> list[ServiceTraffic]:
    """Return the project's services with their last `hours` hours of traffic and latency (for reports)."""
    services = serving_service.list_services(session, project_id=project_id)
    totals = summarize_services(session, service_names=[s.name for s in services],
                                since=utcnow() - dt.timedelta(hours=hours))
    rows = []
    for service in services:
        stats = totals[service.name]
        rows.append(ServiceTraffic(
            name=service.name, model_version=serving_service.primary_label(session, service=service),
            state=service.state, requests=stats.requests, errors=stats.errors,
            latency_p50_ms=stats.latency_p50_ms, latency_p95_ms=stats.latency_p95_ms,
            latency_p99_ms=stats.latency_p99_ms))
    return rows


def rollup_counts(session: Session, *, service_names: list[str], first_day: dt.date, last_day: dt.date,
                  by_month: bool = False, refresh: bool = True) -> list[rollups.Counts]:
    """Requests, rows and classification feedback per service and UTC day (or month) over first_day..last_day.

    Reads the daily rollup, first bringing it up to date (only rows written since the last refresh are counted);
    the refresh commits on its own, so call this outside a unit of work.
    """
    if not service_names:
        return []
    if refresh:
        rollups.refresh(session)
    return rollups.read(session, service_names=service_names, first_day=first_day.isoformat(),
                        last_day=last_day.isoformat(), by_month=by_month)
