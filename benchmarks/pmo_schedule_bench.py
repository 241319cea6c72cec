"""Schedule engine benchmark (issue 13): critical path vs networkx on 5,000-task random DAGs, and the forecast.

    PYTHONPATH=src .venv/bin/python benchmarks/pmo_schedule_bench.py [--graphs 5] [--tasks 5000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench] [--projects 3]

Part 1 (arrays): for each generated graph, time `mlpilot.pmo.engine.critical_path` (levels + forward and
backward pass + float + path, from plain arrays) and `networkx.dag_longest_path` on a prebuilt DiGraph (its
construction is NOT timed, which favours networkx); check both give the same path and the same length, print
the ratio. Task durations become networkx edge weights through a source and a sink node.
Part 2 (forecast): time the 10,000-draw Monte Carlo over a project's remaining tasks (all remaining, and half
finished), against the loop it replaced on the same draws (the results must be identical).
Part 3 (database, optional): store projects of `--tasks` tasks in the given database and time the API's use cases
`scheduling.critical_path` end to end (rows loaded included) next to networkx on the same rows (loading and graph
building included for both), and `forecast.forecast` cold (cache cleared) and cached; then store
`--portfolio-projects` more projects, forecast each once (the stored snapshots), and time the portfolio
computation and its page's HTML rendering for all of them.
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
    table = forecast.prior_table()
    planned = np.ceil(duration).astype(np.float32)
    base = planned.astype(np.float64)
    earliest = np.zeros(n, dtype=np.float32)
    started = np.zeros(n, dtype=bool)
    for share in (1.0, 0.5):
        remaining = np.arange(int(n * (1 - share)), n)

        def ours(remaining: np.ndarray = remaining) -> np.ndarray:
            return forecast.simulate(lv, np.random.default_rng(1), table, draws=draws, base=base, planned=planned,
                                     earliest=earliest, remaining=remaining, started=started, now=0.0,
                                     groups=[])[0]

        def before(remaining: np.ndarray = remaining) -> np.ndarray:
            # The loop the forecast ran before the level-ordered sweep (same draws, same numbers).
            rng = np.random.default_rng(1)
            finish = np.empty(draws, dtype=np.float32)
            chunk = max(forecast.MIN_CHUNK, forecast.CHUNK_CELLS // n)
            for lo in range(0, draws, chunk):
                width = min(chunk, draws - lo)
                d = np.repeat(base.astype(np.float32)[:, None], width, axis=1)
                d[remaining] = planned[remaining, None] * forecast._multipliers(rng, table, (remaining.size, width))
                finish[lo:lo + width] = engine.forward(lv, d, earliest)[1].max(axis=0)
            return finish

        assert np.array_equal(ours(), before()), "the forecast changed"
        t_ours, t_before = best_of(ours, 3), best_of(before, 2)
        print(f"forecast: {draws:,} draws × {remaining.size} remaining of {n} tasks: {t_ours * 1000:.0f} ms "
              f"(the previous loop: {t_before * 1000:.0f} ms, {t_before / t_ours:.1f}x; identical draws)")


def _store_projects(sessions: object, owner_id: int, projects: int, n: int, seed0: int) -> list[int]:
    from sqlalchemy import insert

    from mlpilot.pmo.models import Task, TaskDependency
    from mlpilot.projects.models import Project

    origin = dt.date(2026, 1, 5)
    ids = []
    with sessions() as session:  # type: ignore[operator]
        for k in range(projects):
            project = Project(name=f"bench {uuid.uuid4().hex[:8]}", created_by_id=owner_id, client=f"client {k % 7}")
            session.add(project)
            session.flush()
            duration, pred, succ, lag = random_dag(n, seed0 + k)
            days = np.ceil(duration).astype(int)
            result = engine.critical_path(days.astype(float), np.zeros(n), pred, succ, lag)
            rows = [{"project_id": project.id, "title": f"task {i}", "status": "todo",
                     "start_date": origin + dt.timedelta(days=int(result.early_start[i])),
                     "due_date": origin + dt.timedelta(days=int(result.early_finish[i]) - 1)} for i in range(n)]
            task_ids = list(session.scalars(insert(Task).returning(Task.id), rows))
            if len(pred):
                session.execute(insert(TaskDependency), [
                    {"project_id": project.id, "predecessor_id": task_ids[a], "successor_id": task_ids[b],
                     "lag_days": int(g)} for a, b, g in zip(pred.tolist(), succ.tolist(), lag.tolist(), strict=True)])
            ids.append(project.id)
            session.commit()
    return ids


def database_part(url: str, projects: int, n: int, portfolio_projects: int, portfolio_tasks: int) -> None:
    from mlpilot.accounts.models import User
    from mlpilot.core.db import make_engine, make_sessionmaker
    from mlpilot.migrations import upgrade_database
    from mlpilot.pmo import scheduling
    from mlpilot.portfolio import service as portfolio

    db = make_engine(url)
    upgrade_database(db)
    sessions = make_sessionmaker(db)
    origin = dt.date(2026, 1, 5)
    with sessions() as session:
        owner = User(username=f"bench-{uuid.uuid4().hex[:6]}", password_hash="x", role="admin")
        session.add(owner)
        session.commit()
        owner_id = owner.id
    started = time.perf_counter()
    ids = _store_projects(sessions, owner_id, projects, n, 100)
    print(f"stored {projects} project(s) of {n} tasks in {time.perf_counter() - started:.0f} s")
    for pid in ids:
        with sessions() as session:
            t_cp = best_of(lambda s=session, p=pid: scheduling.critical_path(s, project_id=p), 5)
            graph = scheduling.load_graph(session, project_id=pid)

            def peer(s: object = session, p: int = pid) -> list[object]:
                # networkx on the same rows: load them the same way, build the DiGraph, longest path.
                g = scheduling.load_graph(s, project_id=p)  # type: ignore[arg-type]
                digraph = nx.DiGraph()
                digraph.add_weighted_edges_from(
                    (int(a), int(b), float(g.duration[a] + lag)) for a, b, lag in zip(g.pred, g.succ, g.lag,
                                                                                       strict=True))
                digraph.add_weighted_edges_from(("start", i, 0.0) for i in range(len(g.tasks)))
                digraph.add_weighted_edges_from((i, "end", float(g.duration[i])) for i in range(len(g.tasks)))
                return list(nx.dag_longest_path(digraph))

            t_peer = best_of(peer, 3)
            ours = scheduling.critical_path(session, project_id=pid)
            theirs = peer()[1:-1]
            same = [r.id for r in ours.critical_path] == [graph.tasks[int(i)].id for i in theirs]

            def cold(s: object = session, p: int = pid) -> object:
                forecast._CACHE.clear()
                return forecast.forecast(s, project_id=p, today=origin)  # type: ignore[arg-type]

            t_cold = best_of(cold, 2)
            t_warm = best_of(lambda s=session, p=pid: forecast.forecast(s, project_id=p, today=origin), 5)
        print(f"database project {pid} ({n} tasks): critical path + float {t_cp * 1000:.1f} ms (rows loaded "
              f"included); networkx on the same rows {t_peer * 1000:.1f} ms, ratio {t_peer / t_cp:.1f}x, same path: "
              f"{same}; forecast 10,000 draws: cold {t_cold * 1000:.0f} ms, cached (same plan revision) "
              f"{t_warm * 1000:.1f} ms")
        assert same, "the critical paths differ"
    if portfolio_projects:
        started = time.perf_counter()
        more = _store_projects(sessions, owner_id, portfolio_projects, portfolio_tasks, 1000)
        with sessions() as session:
            for pid in more:  # the stored forecasts the page reads (refreshed whenever a plan is viewed)
                forecast.forecast(session, project_id=pid)
            admin = session.get(User, owner_id)
            assert admin is not None
            print(f"stored and forecast {portfolio_projects} more project(s) of {portfolio_tasks} tasks in "
                  f"{time.perf_counter() - started:.0f} s")
            t_page = best_of(lambda: portfolio.portfolio(session, user=admin), 5)
            result = portfolio.portfolio(session, user=admin)
            html = _render_page(result)
        print(f"portfolio of {result.total} projects ({result.counts}): service {t_page * 1000:.0f} ms; "
              f"page HTML {len(html) // 1024} KiB rendered in {_render_time(result) * 1000:.0f} ms")


def _render_page(result: object) -> str:
    from types import SimpleNamespace

    from mlpilot.core.i18n import get_translations
    from mlpilot.web.pages import templates

    gettext = get_translations("en").gettext
    user = SimpleNamespace(role="admin", username="bench", full_name="", locale="en")
    request = SimpleNamespace(url=SimpleNamespace(path="/portfolio"), query_params={}, cookies={})
    return templates.get_template("portfolio/page.html").render(
        request=request, user=user, locale="en", locales={}, _=gettext, ngettext=None, result=result,
        filters={"health": "", "owner": "", "stage": "", "client": ""}, sort="health", descending=False,
        stages=[], error=None, healths=("red", "amber", "green", "none"))


def _render_time(result: object) -> float:
    return best_of(lambda: _render_page(result), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graphs", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--database-url")
    parser.add_argument("--projects", type=int, default=2)
    parser.add_argument("--portfolio-projects", type=int, default=200,
                        help="Projects for the portfolio timing (their forecasts are stored first).")
    parser.add_argument("--portfolio-tasks", type=int, default=5000)
    args = parser.parse_args()
    arrays_part(args.graphs, args.tasks, args.repeat)
    forecast_part(args.tasks, args.draws)
    if args.database_url:
        database_part(args.database_url, args.projects, args.tasks, args.portfolio_projects, args.portfolio_tasks)


if __name__ == "__main__":
    main()
