"""Builders for value-tree tests: a project service and its telemetry and feedback written to the real store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert

from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.runtime import Runtime
from mlpilot.monitoring.models import Feedback, InferenceLog
from mlpilot.serving.models import Service


def add_service(runtime: Runtime, *, project_id: int, name: str) -> None:
    """A service row of the project (no model behind it: the value tree only reads its evidence)."""
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        session.add(Service(name=name, project_id=project_id))


def add_traffic(runtime: Runtime, *, service: str, day: dt.date, requests: int, rows_each: int = 2,
                role: str = "primary") -> None:
    start = dt.datetime(day.year, day.month, day.day, 1, tzinfo=dt.UTC)
    logs = [{"service": service, "ts": start + dt.timedelta(minutes=i), "latency_ms": 5.0, "status_code": 200,
             "rows": rows_each, "role": role} for i in range(requests)]
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        session.execute(insert(InferenceLog), logs)


def add_feedback(runtime: Runtime, *, service: str, day: dt.date, right: int, wrong: int) -> None:
    start = dt.datetime(day.year, day.month, day.day, 2, tzinfo=dt.UTC)
    rows = [Feedback(service=service, request_id=f"{day}-{i}", task="classification", ts=start,
                     prediction="yes", actual="yes" if i < right else "no") for i in range(right + wrong)]
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        # As monitoring.record_feedback does: feedback on a request replaces the earlier feedback.
        session.execute(delete(Feedback).where(Feedback.service == service,
                                               Feedback.request_id.in_([r.request_id for r in rows])))
        session.add_all(rows)
