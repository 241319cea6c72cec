"""The daily rollup of telemetry and feedback: per service and UTC day, kept up to date incrementally.

Log rows are only ever appended (by the sink, the one writer), so new rows — ids above the stored mark — are
grouped and added to their days. Feedback on a request replaces the earlier feedback (delete, then insert with a
new id), so for new feedback rows the days they fall on are recounted from the feedback table instead of added.
A refresh moves each mark with a compare-and-set: when two refreshes race, the loser rolls back and the reader
sees the winner's rollup.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Integer, String, case, func, insert, select, type_coerce, update
from sqlalchemy.orm import Session

from mlpilot.core.db import unit_of_work
from mlpilot.core.errors import Conflict
from mlpilot.core.timebuckets import utc_day
from mlpilot.monitoring.models import DailyRollup, Feedback, InferenceLog, RollupMark


class _Raced(Exception):
    """Another refresh moved the mark first; this one's work is rolled back."""


def _mark(session: Session, name: str) -> int:
    mark = session.get(RollupMark, name)
    if mark is None:
        session.add(RollupMark(name=name, last_id=0))
        session.flush()
        return 0
    return mark.last_id


def _move(session: Session, name: str, old: int, new: int) -> None:
    moved = session.execute(update(RollupMark).where(RollupMark.name == name, RollupMark.last_id == old)
                            .values(last_id=new))
    if getattr(moved, "rowcount", 1) != 1:
        raise _Raced


def _upsert(session: Session, values: dict[tuple[str, str], dict[str, int]], *, add: bool) -> None:
    """Add `values` to (or set them on) the rollup rows of their (service, day): bulk update by key, bulk insert."""
    by_service: dict[str, list[str]] = defaultdict(list)
    for service, day in values:
        by_service[service].append(day)
    fields = sorted({f for v in values.values() for f in v})
    changed = []
    for service, days in by_service.items():
        stmt = (select(DailyRollup.day, *(getattr(DailyRollup, f) for f in fields))
                .where(DailyRollup.service == service, DailyRollup.day.in_(days)))
        for row in session.execute(stmt):
            day, old = str(row[0]), [int(o) for o in row[1:]]
            new = values.pop((service, day))
            changed.append({"service": service, "day": day, **{
                f: (o + new.get(f, 0) if add else new.get(f, 0)) for f, o in zip(fields, old, strict=True)}})
    if changed:
        session.execute(update(DailyRollup), changed)  # ORM bulk UPDATE by primary key (executemany)
    fresh = [{"service": sv, "day": d, "requests": 0, "rows": 0, "feedback": 0, "correct": 0, **v}
             for (sv, d), v in values.items()]
    if fresh:
        session.execute(insert(DailyRollup), fresh)


def _add_logs(session: Session) -> None:
    old = _mark(session, "logs")
    new = session.scalar(select(func.max(InferenceLog.id))) or 0
    if new <= old:
        return
    day = utc_day(session, InferenceLog.ts)
    stmt = (select(InferenceLog.service, day, func.count(), type_coerce(func.sum(InferenceLog.rows), Integer))
            .where(InferenceLog.id > old, InferenceLog.id <= new, InferenceLog.role != "shadow")
            .group_by(InferenceLog.service, day))
    _upsert(session, {(str(sv), str(d)): {"requests": int(n), "rows": int(r or 0)}
                      for sv, d, n, r in session.execute(stmt)}, add=True)
    _move(session, "logs", old, new)


def _recount_feedback(session: Session) -> None:
    old = _mark(session, "feedback")
    new = session.scalar(select(func.max(Feedback.id))) or 0
    if new <= old:
        return
    day = utc_day(session, Feedback.ts)
    touched = {(str(sv), str(d)) for sv, d in session.execute(
        select(Feedback.service, day).where(Feedback.id > old, Feedback.id <= new).distinct())}
    # One grouped recount over the span of touched days (recounting an untouched day in between is harmless).
    first = dt.datetime.fromisoformat(min(d for _, d in touched)).replace(tzinfo=dt.UTC)
    last = dt.datetime.fromisoformat(max(d for _, d in touched)).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
    right = type_coerce(func.sum(case((Feedback.prediction == Feedback.actual, 1), else_=0)), Integer)
    stmt = (select(Feedback.service, day, func.count(), right)
            .where(Feedback.service.in_(sorted({sv for sv, _ in touched})), Feedback.ts >= first, Feedback.ts < last,
                   Feedback.task == "classification")
            .group_by(Feedback.service, day))
    counted = {(str(sv), str(d)): {"feedback": int(n), "correct": int(c or 0)} for sv, d, n, c in session.execute(stmt)}
    _upsert(session, {key: counted.get(key, {"feedback": 0, "correct": 0}) for key in touched | counted.keys()},
            add=False)
    _move(session, "feedback", old, new)


def refresh(session: Session) -> None:
    """Bring the daily rollup up to date with the log and feedback rows written since the last refresh."""
    try:
        with unit_of_work(session):
            _add_logs(session)
            _recount_feedback(session)
    except (_Raced, Conflict):
        pass  # another refresh got there first (a moved mark, or the same new day inserted): read its rollup


@dataclass(frozen=True)
class Counts:
    """Requests, rows, and classification feedback (how many, how many right) of a service in a period."""

    service: str
    period: str  # "YYYY-MM-DD" or "YYYY-MM"
    requests: int
    rows: int
    feedback: int
    correct: int


def read(session: Session, *, service_names: list[str], first_day: str, last_day: str,
         by_month: bool = False) -> list[Counts]:
    """The services' counts per day (or per month, summed in the database) for days first_day..last_day."""
    period = func.substr(DailyRollup.day, 1, 7 if by_month else 10, type_=String)
    requests, rows, feedback, correct = (type_coerce(func.sum(c), Integer) for c in (
        DailyRollup.requests, DailyRollup.rows, DailyRollup.feedback, DailyRollup.correct))
    stmt = (select(DailyRollup.service, period, requests, rows, feedback, correct)
            .where(DailyRollup.service.in_(service_names), DailyRollup.day >= first_day, DailyRollup.day <= last_day)
            .group_by(DailyRollup.service, period))
    return [Counts(str(sv), str(p), int(q or 0), int(r or 0), int(f or 0), int(c or 0))
            for sv, p, q, r, f, c in session.execute(stmt)]
