"""Schedule engine benchmark (issue 13): critical path vs networkx on 5,000-task random DAGs, and the forecast.

    PYTHONPATH=src .venv/bin/python benchmarks/pmo_schedule_bench.py [--graphs 5] [--tasks 5000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench] [--projects 3]

Part 1 (arrays): for each generated graph, time `mlpilot.pmo.engine.critical_path` (levels + forward and
backward pass + float + path, from plain arrays) and `networkx.dag_longest_path` on a prebuilt DiGraph (its
construction is NOT timed, which favours networkx); check both give the same path and the same length, print
the ratio. Task durations become networkx edge weights through a source and a sink node.
Part 2 (forecast): time the 10,000-draw Monte Carlo over a project's remaining tasks (all remaining, and half
finished).
Part 3 (database, optional): store projects of `--tasks` tasks in the given database and time the API's use cases
`scheduling.critical_path` and `forecast.forecast` end to end (loading the rows included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable

import networkx as nx
import numpy as np

from mlpilot.pmo import engine, forecast


def random_dag(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A project-like DAG: each task waits for 0-3 tasks among the 200 before it; durations 1-20 days."""
    rng = np.random.default_rng(seed)
    pairs = sorted({(int(j), i) for i in range(1, n) for j in rng.integers(max(0, i - 200), i,
                                                                           size=rng.integers(0, 4))})
    pred = np.array([a for a, _ in pairs], dtype=np.int64)
    succ = np.array([b for _, b in pairs], dtype=np.int64)
    return rng.uniform(1, 20, size=n), pred, succ, rng.integers(0, 3, size=len(pairs)).astype(float)


def best_of(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    return min(_timed(fn) for _ in range(repeat))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def arrays_part(graphs: int, n: int, repeat: int) -> None:
    ratios = []
    for seed in range(graphs):
        duration, pred, succ, lag = random_dag(n, seed)
        graph = nx.DiGraph()
        for a, b, lag_ab in zip(pred.tolist(), succ.tolist(), lag.tolist(), strict=True):
            graph.add_edge(a, b, weight=duration[a] + lag_ab)
        for i in range(n):
            graph.add_edge("start", i, weight=0.0)
            graph.add_edge(i, "end", weight=float(duration[i]))
        ours = engine.critical_path(duration, np.zeros(n), pred, succ, lag)
        peer = nx.dag_longest_path(graph)
        length = sum(graph[a][b]["weight"] for a, b in zip(peer, peer[1:], strict=False))
        same = peer[1:-1] == ours.path and abs(length - ours.finish) < 1e-6
        t_ours = best_of(lambda d=duration, p=pred, s=succ, g=lag: engine.critical_path(d, np.zeros(n), p, s, g),
                         repeat)
        t_peer = best_of(lambda g=graph: nx.dag_longest_path(g), repeat)
        ratios.append(t_peer / t_ours)
        print(f"graph {seed}: {n} tasks, {len(pred)} links, path {len(ours.path)} tasks, length {ours.finish:.2f} d; "
              f"mlpilot {t_ours * 1000:.2f} ms, networkx {t_peer * 1000:.2f} ms, ratio {t_peer / t_ours:.1f}x, "
              f"same path and length: {same}")
        assert same, "the critical paths differ"
    print(f"critical path: median ratio {statistics.median(ratios):.1f}x (networkx / mlpilot, best of {repeat})")


def forecast_part(n: int, draws: int) -> None:
    for size in sorted({200, 1000, n}):
        forecast_size(size, draws)


def forecast_size(n: int, draws: int) -> None:
    duration, pred, succ, lag = random_dag(n, 0)
    lv = engine.levels(n, pred, succ, lag)
    rng = np.random.default_rng(1)
    for share in (1.0, 0.5):
        remaining = np.arange(int(n * (1 - share)), n)

        def run(remaining: np.ndarray = remaining) -> np.ndarray:
            finish = np.empty(draws, dtype=np.float32)
            chunk = max(forecast.MIN_CHUNK, forecast.CHUNK_CELLS // n)  # as mlpilot.pmo.forecast does
            for lo in range(0, draws, chunk):
                width = min(chunk, draws - lo)
                d = np.repeat(duration.astype(np.float32)[:, None], width, axis=1)
                d[remaining] *= forecast._multipliers(rng, forecast.prior_table(), (remaining.size, width))
                finish[lo:lo + width] = engine.forward(lv, d, np.zeros(n, dtype=np.float32))[1].max(axis=0)
            return finish

        seconds = best_of(run, 2)
        print(f"forecast: {draws:,} draws × {remaining.size} remaining of {n} tasks: {seconds * 1000:.0f} ms")


def database_part(url: str, projects: int, n: int) -> None:
    from sqlalchemy import insert

    from mlpilot.accounts.models import User
    from mlpilot.core.db import make_engine, make_sessionmaker
    from mlpilot.migrations import upgrade_database
    from mlpilot.pmo import scheduling
    from mlpilot.pmo.models import Task, TaskDependency
    from mlpilot.projects.models import Project

    db = make_engine(url)
    upgrade_database(db)
    sessions = make_sessionmaker(db)
    origin = dt.date(2026, 1, 5)
    ids = []
    with sessions() as session:
        owner = User(username=f"bench-{uuid.uuid4().hex[:6]}", password_hash="x", role="admin")
        session.add(owner)
        session.flush()
        for k in range(projects):
            project = Project(name=f"bench {uuid.uuid4().hex[:8]}", created_by_id=owner.id)
            session.add(project)
            session.flush()
            duration, pred, succ, lag = random_dag(n, 100 + k)
            days = np.ceil(duration).astype(int)
            result = engine.critical_path(days.astype(float), np.zeros(n), pred, succ, lag)
            rows = [{"project_id": project.id, "title": f"task {i}", "status": "todo",
                     "start_date": origin + dt.timedelta(days=int(result.early_start[i])),
                     "due_date": origin + dt.timedelta(days=int(result.early_finish[i]) - 1)} for i in range(n)]
            task_ids = list(session.scalars(insert(Task).returning(Task.id), rows))
            session.execute(insert(TaskDependency), [
                {"project_id": project.id, "predecessor_id": task_ids[a], "successor_id": task_ids[b],
                 "lag_days": int(g)} for a, b, g in zip(pred.tolist(), succ.tolist(), lag.tolist(), strict=True)])
            ids.append(project.id)
        session.commit()
    for pid in ids:
        with sessions() as session:
            t_cp = best_of(lambda s=session, p=pid: scheduling.critical_path(s, project_id=p), 3)
            t_fc = best_of(lambda s=session, p=pid: forecast.forecast(s, project_id=p, today=origin), 1)
        print(f"database project {pid} ({n} tasks): critical path {t_cp * 1000:.0f} ms, "
              f"forecast {t_fc * 1000:.0f} ms (rows loaded included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graphs", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--database-url")
    parser.add_argument("--projects", type=int, default=2)
    args = parser.parse_args()
    arrays_part(args.graphs, args.tasks, args.repeat)
    forecast_part(args.tasks, args.draws)
    if args.database_url:
        database_part(args.database_url, args.projects, args.tasks)


if __name__ == "__main__":
    main()
