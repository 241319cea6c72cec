"""Value-tree recompute benchmark (issue 14): one year of hourly telemetry for 50 services, in the real store.

Usage: python benchmarks/value_bench.py [--services 50] [--days 365] [--database-url URL] [--repeat 3] [--json OUT]

Builds a migrated metadata database (a SQLite file in a temp folder unless --database-url is given), one project
with `--services` services, and for each service one inference-log row and one feedback row per hour over
`--days` days (the shape the sink and the feedback API write). The tree has, per service, a requests KPI, a
predictions KPI and a live-accuracy KPI, with a one-off and a monthly cost.

mlpilot: `mlpilot.value.service.value_summary(session, project_id, months=12, days=31)`, the full recompute
(monthly and daily series of every KPI, benefits, ROI, payback). Timed once on the fresh database (the first
read builds the daily rollup from the whole year: `mlpilot_first_seconds`), then `--repeat` times, each after one
more hour of telemetry and feedback arrives (the steady state of a value page: `mlpilot_seconds`, the median).
Peer, measured in the same run on the same database: the naive recompute a data scientist would write, per service
`pandas.read_sql` of the year's rows then a `groupby` by month (requests, rows, accuracy). The script checks both
give the same monthly actuals and prints
the median seconds of each and the ratio peer / mlpilot.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import insert

from mlpilot.core.db import make_engine, session_scope, unit_of_work, utcnow
from mlpilot.migrations import upgrade_database
from mlpilot.monitoring.models import Feedback, InferenceLog
from mlpilot.projects.models import Project
from mlpilot.serving.models import Service
from mlpilot.value.models import ValueCost, ValueNode
from mlpilot.value.service import value_summary

BATCH = 50_000


def populate(sessions, *, services: int, days: int) -> int:  # type: ignore[no-untyped-def]
    """Write the project, its services, tree and costs, and the hourly telemetry; return the project id."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    hours = [now - dt.timedelta(hours=h) for h in range(days * 24)]
    names = [f"svc-{i:02d}" for i in range(services)]
    with session_scope(sessions) as session, unit_of_work(session):
        project = Project(name="value-bench", client="bench")
        session.add(project)
        session.flush()
        goal = ValueNode(project_id=project.id, kind="goal", name_ko="목표", name_en="Goal")
        session.add(goal)
        session.flush()
        for name in names:
            session.add(Service(name=name, project_id=project.id))
            for source, unit, baseline in (("requests", "requests", 500), ("predictions", "rows", 1000),
                                           ("live_accuracy", "share", 0.7)):
                session.add(ValueNode(project_id=project.id, parent_id=goal.id, kind="kpi", name_ko=source,
                                      name_en=f"{name} {source}", baseline=baseline, target=baseline * 1.2,
                                      unit=unit, value_per_unit=10.0, source=source, service_name=name))
        session.add(ValueCost(project_id=project.id, name="build", kind="one_off", amount=5_000_000,
                              start_month=(now - dt.timedelta(days=days)).date().replace(day=1)))
        session.add(ValueCost(project_id=project.id, name="run", kind="monthly", amount=200_000,
                              start_month=(now - dt.timedelta(days=days)).date().replace(day=1)))
        project_id = project.id
    logs, feedback = [], []
    for s, name in enumerate(names):
        for h, ts in enumerate(hours):
            logs.append({"service": name, "ts": ts, "latency_ms": 5.0, "status_code": 200, "rows": 1 + (h + s) % 5,
                         "role": "primary"})
            feedback.append({"service": name, "request_id": f"{h}", "task": "classification", "ts": ts,
                             "prediction": "yes", "actual": "yes" if (h * 7 + s) % 10 < 8 else "no"})
    for table, rows in ((InferenceLog, logs), (Feedback, feedback)):
        for start in range(0, len(rows), BATCH):
            with session_scope(sessions) as session, unit_of_work(session):
                session.execute(insert(table), rows[start:start + BATCH])
    return project_id


def add_hour(sessions, services: int) -> None:  # type: ignore[no-untyped-def]
    """One more request and one feedback per service, now."""
    now = utcnow()
    with session_scope(sessions) as session, unit_of_work(session):
        session.execute(insert(InferenceLog), [
            {"service": f"svc-{s:02d}", "ts": now, "latency_ms": 5.0, "status_code": 200, "rows": 3,
             "role": "primary"} for s in range(services)])
        session.execute(insert(Feedback), [
            {"service": f"svc-{s:02d}", "request_id": f"new-{now.isoformat()}", "task": "classification", "ts": now,
             "prediction": "yes", "actual": "yes"} for s in range(services)])


def naive_monthly(engine, names: list[str], since: dt.datetime) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    """The peer: per service, read the year's rows with pandas and group them by month."""
    result: dict[tuple[str, str], float] = {}
    with engine.connect() as conn:
        for name in names:
            logs = pd.read_sql("SELECT ts, rows FROM inference_logs WHERE service = ? AND ts >= ? "
                               "AND role != 'shadow'",
                               conn.connection.driver_connection, params=(name, str(since)))
            logs["month"] = pd.to_datetime(logs["ts"], format="ISO8601", utc=True).dt.strftime("%Y-%m")
            traffic = logs.groupby("month").agg(requests=("rows", "size"), rows=("rows", "sum"))
            fb = pd.read_sql("SELECT ts, prediction, actual FROM feedback WHERE service = ? AND ts >= ? "
                             "AND task = 'classification'", conn.connection.driver_connection,
                             params=(name, str(since)))
            fb["month"] = pd.to_datetime(fb["ts"], format="ISO8601", utc=True).dt.strftime("%Y-%m")
            fb["right"] = fb["prediction"] == fb["actual"]
            accuracy = fb.groupby("month")["right"].mean()
            for month, row in traffic.iterrows():
                result[(f"{name} requests", str(month))] = float(row["requests"])
                result[(f"{name} predictions", str(month))] = float(row["rows"])
            for month, value in accuracy.items():
                result[(f"{name} live_accuracy", str(month))] = round(float(value), 6)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="value-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
    engine = make_engine(url)
    upgrade_database(engine)
    from sqlalchemy.orm import sessionmaker
    sessions = sessionmaker(engine, expire_on_commit=False)
    t0 = time.perf_counter()
    project_id = populate(sessions, services=args.services, days=args.days)
    print(f"wrote {args.services * args.days * 24:,} inference-log rows and as many feedback rows "
          f"in {time.perf_counter() - t0:.1f} s ({engine.dialect.name})")
    ours, peer, summary = [], [], None
    t0 = time.perf_counter()
    with session_scope(sessions) as session:
        value_summary(session, project_id, months=12, days=31)
    cold = time.perf_counter() - t0
    for _ in range(args.repeat):
        add_hour(sessions, args.services)  # what the sink writes between two reads of the value page
        t0 = time.perf_counter()
        with session_scope(sessions) as session:
            summary = value_summary(session, project_id, months=12, days=31)
        ours.append(time.perf_counter() - t0)
    names = [f"svc-{i:02d}" for i in range(args.services)]
    first = dt.datetime.strptime(summary.first_month + "-01", "%Y-%m-%d").replace(tzinfo=dt.UTC)
    expected: dict[tuple[str, str], float] = {}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        expected = naive_monthly(engine, names, first)
        peer.append(time.perf_counter() - t0)
    assert summary is not None
    got = {(k.name_en, p.period): p.actual for k in summary.kpis for p in k.monthly if p.actual is not None}
    assert got == expected, "mlpilot and the peer disagree on the monthly actuals"
    mine, theirs = statistics.median(ours), statistics.median(peer)
    result = {"services": args.services, "days": args.days, "kpis": len(summary.kpis),
              "mlpilot_first_seconds": round(cold, 3), "mlpilot_seconds": round(mine, 3),
              "mlpilot_runs": [round(s, 3) for s in ours],
              "peer": "per-service pandas.read_sql + groupby by month", "peer_seconds": round(theirs, 3),
              "peer_runs": [round(s, 3) for s in peer], "ratio_peer_over_mlpilot": round(theirs / mine, 2),
              "roi": summary.roi.roi, "payback_months": summary.roi.payback_months}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
