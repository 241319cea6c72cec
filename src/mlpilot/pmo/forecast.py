"""The schedule forecast: Monte Carlo over the remaining tasks, P50/P85 finish of every milestone and the project.

Each draw multiplies every remaining task's planned duration by a pace factor and reruns the forward pass of the
dependency graph (all draws at once, numpy over a (tasks × draws) array, in chunks to bound memory). The factors
are resampled from the project's own actual/planned duration ratios of finished tasks. With fewer than
MIN_HISTORY finished tasks there is no pace to measure, so a stated prior is used instead (see PRIOR_*).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from statistics import NormalDist

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.pmo import engine, revisions
from mlpilot.pmo.models import ForecastSnapshot, Milestone, TaskStatus
from mlpilot.pmo.scheduling import actual_days, load_graph, planned_days, scheduling_levels
from mlpilot.pmo.schemas import ForecastPoint, ForecastRead
from mlpilot.projects import service as projects_service

DRAWS = 10_000
# Draws per pass: as many as keep one (tasks × draws) float32 array near 16 MB. Small projects run all draws in
# one pass (each pass costs a few numpy calls per graph level); 5,000 tasks take 800 draws a pass.
CHUNK_CELLS = 4_000_000
MIN_CHUNK = 250
# Threads sharing the draws of a chunk (see simulate).
THREADS = 2
MIN_HISTORY = 3
# The prior when the team has no measured pace: a lognormal duration multiplier with median 1.2 and sigma 0.35
# (P85 ≈ 1.72, mean ≈ 1.27). Why: task overruns are right-skewed and well described by a lognormal
# (Jørgensen & Moløkken-Østvold, "How large are software cost overruns?", 2006; Flyvbjerg's reference-class
# forecasting), with typical median overruns of 20-30 %. It is a deliberate, stated assumption, replaced by the
# project's own ratios as soon as three tasks are finished.
PRIOR_MEDIAN = 1.2
PRIOR_SIGMA = 0.35
HISTOGRAM_BINS = 40
# Forecasts kept in memory, keyed on (project, plan revision token, day, draws, seed): the plan page and the
# API read them back instead of rerunning 10,000 draws on every render.
CACHE_SIZE = 512
_CACHE: OrderedDict[tuple[object, ...], ForecastRead] = OrderedDict()
_LOCK = threading.Lock()


LEVELS = 65_536


@lru_cache(maxsize=1)
def prior_table() -> np.ndarray:
    """The prior as 65,536 equally likely values: its quantiles at the midpoints (i + 0.5) / 65,536."""
    normal = NormalDist()
    z = np.array([normal.inv_cdf((i + 0.5) / LEVELS) for i in range(LEVELS)])
    table: np.ndarray = np.exp(np.log(PRIOR_MEDIAN) + PRIOR_SIGMA * z).astype(np.float32)
    return table


def multiplier_table(ratios: np.ndarray) -> np.ndarray:
    """65,536 equally likely multipliers: the measured ratios, each repeated equally (a bootstrap), or the prior."""
    if ratios.size >= MIN_HISTORY:
        table: np.ndarray = ratios[(np.arange(LEVELS, dtype=np.int64) * ratios.size) >> 16].astype(np.float32)
        return table
    return prior_table()


def _multipliers(rng: np.random.Generator, table: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    # One random 16-bit index per task and draw into the table: three times cheaper than drawing normals and
    # exponentiating, and the table resolves the distribution to 1/65,536 of probability.
    picks = np.frombuffer(rng.bytes(2 * shape[0] * shape[1]), dtype=np.uint16).reshape(shape)
    values: np.ndarray = table[picks]
    return values


def _random_picks(rng: np.random.Generator, shape: tuple[int, int], raw: bool) -> np.ndarray:
    """The 16-bit picks of `_multipliers`, read straight from the bit generator when the byte count is a multiple
    of 8: `Generator.bytes` is that same little-endian stream of 64-bit words, without its two copies."""
    count = 2 * shape[0] * shape[1]
    if raw:
        return rng.bit_generator.random_raw(count // 8).view(np.uint16).reshape(shape)
    return np.frombuffer(rng.bytes(count), dtype=np.uint16).reshape(shape)


def simulate(lv: engine.Levels, rng: np.random.Generator, table: np.ndarray, *, draws: int, base: np.ndarray,
             planned: np.ndarray, earliest: np.ndarray, remaining: np.ndarray, started: np.ndarray, now: float,
             groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Finish day of the project and of each group of tasks in every draw (the Monte Carlo itself).

    Draws are taken in chunks of at most CHUNK_CELLS cells; the random picks of a chunk are a (remaining tasks ×
    draws) block, in task order, so the figures for a seed do not depend on how the forward pass is laid out.
    Each chunk's draws are split between THREADS threads (numpy releases the GIL in its loops), each running the
    forward pass on its share in its own preallocated buffers; only the finish of the project and of each group
    is kept per draw. (Narrower, cache-sized slices were measured slower: each pass costs a few numpy calls per
    graph level, which outweighs the cache gain.)
    """
    n = base.shape[0]
    plan = engine.sweep_plan(lv)
    rows = plan.row
    earliest_rows = earliest.astype(np.float32)[plan.order]
    fixed = np.flatnonzero(np.isin(np.arange(n), remaining, invert=True))
    fixed_rows, fixed_days = rows[fixed], base.astype(np.float32)[fixed]
    # For each row (level order) the row of the chunk's picks that belongs to its task (0 for a finished task,
    # whose duration is overwritten with its fixed days), and the planned days of its task.
    pick_row = np.zeros(n, dtype=np.int64)
    pick_row[rows[remaining]] = np.arange(remaining.size)
    planned_rows = planned.astype(np.float32)[plan.order][:, None]
    in_flight = remaining[started[remaining]]
    in_flight_rows = rows[in_flight]
    floor = (now + 1 - earliest[in_flight])[:, None].astype(np.float32)
    group_rows = [rows[m] for m in groups]
    project_finish = np.empty(draws, dtype=np.float32)
    milestone_finish = np.empty((len(groups), draws), dtype=np.float32)
    chunk = max(MIN_CHUNK, CHUNK_CELLS // max(1, n))
    width_max = -(-min(chunk, max(1, draws)) // THREADS)
    buffers = [(np.empty((n, width_max), np.float32), np.empty((n, width_max), np.float32)) for _ in range(THREADS)]
    for duration_buffer, _finish_buffer in buffers:
        duration_buffer[fixed_rows] = fixed_days[:, None]
    remaining_rows = rows[remaining]
    planned_rem = planned.astype(np.float32)[remaining, None]

    def run(picks: np.ndarray | None, lo: int, c0: int, c1: int, slot: int) -> None:
        w = c1 - c0
        duration, finish = (buf[:, :w] for buf in buffers[slot])
        if picks is not None and not fixed.size:
            # Every task remains: look the picks up straight into the buffer, in row order.
            np.take(table, picks[pick_row, c0:c1], out=duration, mode="clip")
            duration *= planned_rows
        elif picks is not None:
            # The finished tasks' rows were filled once when the buffers were made.
            values = np.take(table, picks[:, c0:c1], mode="clip")
            values *= planned_rem
            duration[remaining_rows] = values
        if in_flight.size:
            # A started task still open today lasts at least until tomorrow.
            duration[in_flight_rows] = np.maximum(duration[in_flight_rows], floor)
        engine.sweep(plan, duration, earliest_rows, out=finish)
        finish.max(axis=0, out=project_finish[lo + c0:lo + c1])
        for g, members in enumerate(group_rows):
            if members.size:
                finish[members].max(axis=0, out=milestone_finish[g, lo + c0:lo + c1])

    raw = True

    def draw(lo: int) -> np.ndarray | None:
        nonlocal raw
        width = min(chunk, draws - lo)
        if not remaining.size or lo >= draws:
            return None
        raw = raw and (2 * remaining.size * width) % 8 == 0
        return _random_picks(rng, (remaining.size, width), raw)

    with ThreadPoolExecutor(THREADS) as pool:
        picks = draw(0)
        for lo in range(0, draws, chunk):
            width = min(chunk, draws - lo)
            # One contiguous share of the chunk's draws per thread, each into its own buffers; the next chunk's
            # picks are drawn meanwhile (in order, so the stream is the same).
            jobs = [pool.submit(run, picks, lo, c0, min(c0 + width_max, width), slot)
                    for slot, c0 in enumerate(range(0, width, width_max))]
            following = draw(lo + chunk)
            for job in jobs:
                job.result()
            picks = following
    return project_finish, milestone_finish


def forecast(session: Session, *, project_id: int, today: dt.date | None = None, draws: int = DRAWS,
             seed: int | None = None) -> ForecastRead:
    """Return the P50/P85 finish dates of the project and its milestones, and the finish-date histogram.

    It always reflects the tasks as they are now: results are cached per (project, plan revision, day), and the
    revision moves with every change to the tasks, dependencies or milestones (pmo.revisions). The random seed
    is the project id (unless given), so reading twice without a change gives the same figures anyway. Each
    default forecast also refreshes the project's stored snapshot, which the portfolio reads.
    """
    projects_service.get_project(session, project_id=project_id)
    today = today or dt.date.today()
    revision = revisions.revision(session, project_id)
    # Revision 0: the plan was never written through a session (nothing to key on safely).
    cacheable = revision != 0 and not revisions.changed_here(session, project_id)
    key = (project_id, revision, today, draws, seed)
    with _LOCK:
        hit = _CACHE.get(key) if cacheable else None
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is not None:
        return hit.model_copy(deep=True)
    result = _compute(session, project_id=project_id, today=today, draws=draws, seed=seed)
    if cacheable:
        with _LOCK:
            _CACHE[key] = result.model_copy(deep=True)
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
        if draws == DRAWS and seed is None:
            _store_snapshot(session, result, revision)
    return result


def _store_snapshot(session: Session, result: ForecastRead, revision: int) -> None:
    values = {"revision": revision, "as_of": result.as_of, "due_date": result.project.due_date,
              "p50": result.project.p50, "p85": result.project.p85,
              "late_probability": result.project.late_probability, "remaining_tasks": result.remaining_tasks,
              "computed_at": utcnow()}
    table = ForecastSnapshot.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(project_id=result.project_id, **values)
    with unit_of_work(session):
        session.execute(stmt.on_conflict_do_update(index_elements=["project_id"], set_=values))


def snapshots(session: Session, project_ids: list[int]) -> dict[int, ForecastSnapshot]:
    """The stored forecast of each project that has one."""
    # populate_existing: the snapshot is upserted with Core, so rows already in the session may hold old values.
    rows = session.scalars(select(ForecastSnapshot).where(ForecastSnapshot.project_id.in_(project_ids))
                           .execution_options(populate_existing=True))
    return {row.project_id: row for row in rows}


def _compute(session: Session, *, project_id: int, today: dt.date, draws: int, seed: int | None) -> ForecastRead:
    graph = load_graph(session, project_id=project_id)
    milestones = list(session.scalars(select(Milestone).where(Milestone.project_id == project_id)
                                      .order_by(Milestone.position, Milestone.due_date, Milestone.id)))
    tasks = graph.tasks
    done = np.array([t.status == TaskStatus.done and t.completed_on is not None for t in tasks], dtype=bool)
    took = [(actual_days(t), planned_days(t)) for t in tasks]
    ratios = np.array([a / p for a, p in took if a is not None], dtype=np.float32)
    source = "history" if ratios.size >= MIN_HISTORY else "prior"
    table = multiplier_table(ratios)
    empty = ForecastPoint(kind="project", id=None, name="", due_date=None, p50=None, p85=None, late_probability=None)
    if not tasks:
        return ForecastRead(project_id=project_id, draws=0, source=source, finished_tasks=0, remaining_tasks=0,
                            as_of=today, project=empty, milestones=[], histogram=[])
    lv = scheduling_levels(graph)
    origin = graph.origin
    now = float((today - origin).days)
    planned = np.array([planned_days(t) for t in tasks], dtype=np.float32)
    earliest = graph.earliest.astype(np.float32)
    started = np.array([t.status in (TaskStatus.in_progress, TaskStatus.blocked) for t in tasks], dtype=bool)
    # Work not yet started cannot start in the past; started work cannot finish before tomorrow.
    earliest = np.where(~done & ~started, np.maximum(earliest, now), earliest).astype(np.float32)
    remaining = np.flatnonzero(~done)
    groups = [(m, np.array([i for i, t in enumerate(tasks) if t.milestone_id == m.id], dtype=np.int64))
              for m in milestones]
    rng = np.random.default_rng(project_id if seed is None else seed)
    project_finish, milestone_finish = simulate(lv, rng, table, draws=draws, base=graph.duration, planned=planned,
                                                earliest=earliest, remaining=remaining, started=started, now=now,
                                                groups=[members for _m, members in groups])

    def point(kind: str, ident: int | None, name: str, due: dt.date | None, values: np.ndarray) -> ForecastPoint:
        p50, p85 = np.percentile(values, [50, 85])
        late = None if due is None else float(np.mean(values > (due - origin).days + 1))
        return ForecastPoint(kind=kind, id=ident, name=name, due_date=due, p50=_date(origin, p50),
                             p85=_date(origin, p85), late_probability=late)

    due = max((m.due_date for m in milestones), default=max(t.due_date for t in tasks))
    project = point("project", None, "", due, project_finish)
    rows = [point("milestone", m.id, m.name, m.due_date, milestone_finish[g]) if members.size else
            ForecastPoint(kind="milestone", id=m.id, name=m.name, due_date=m.due_date, p50=None, p85=None,
                          late_probability=None) for g, (m, members) in enumerate(groups)]
    return ForecastRead(project_id=project_id, draws=draws, source=source, finished_tasks=int(done.sum()),
                        remaining_tasks=int(remaining.size), as_of=today, project=project, milestones=rows,
                        histogram=_histogram(origin, project_finish))


def _date(origin: dt.date, finish: float) -> dt.date:
    """A finish on the day axis (exclusive end) as the date of the last working day."""
    return origin + dt.timedelta(days=int(np.ceil(finish - 1e-6)) - 1)


def _histogram(origin: dt.date, finish: np.ndarray) -> list[tuple[dt.date, int]]:
    days = np.ceil(finish - 1e-6).astype(np.int64) - 1
    low, high = int(days.min()), int(days.max())
    width = max(1, -(-(high - low + 1) // HISTOGRAM_BINS))
    counts = np.bincount((days - low) // width)
    return [(origin + dt.timedelta(days=low + k * width), int(c)) for k, c in enumerate(counts) if c]
