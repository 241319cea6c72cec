"""The level-ordered sweep of the forecast gives the very numbers of the per-level forward pass it replaced."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy.orm import Session

from mlpilot.pmo import engine, forecast, scheduling, service
from tests.projects.factories import make_project, make_user


def random_dag(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pairs = sorted({(int(j), i) for i in range(1, n) for j in rng.integers(max(0, i - 30), i, size=rng.integers(0, 4))})
    pred = np.array([a for a, _ in pairs], dtype=np.int64)
    succ = np.array([b for _, b in pairs], dtype=np.int64)
    return np.ceil(rng.uniform(1, 20, size=n)), pred, succ, rng.integers(-1, 3, size=len(pairs)).astype(float)


def reference(lv: engine.Levels, rng: np.random.Generator, table: np.ndarray, *, draws: int, base: np.ndarray,
              planned: np.ndarray, earliest: np.ndarray, remaining: np.ndarray, started: np.ndarray,
              now: float) -> np.ndarray:
    """The forecast loop as it was before the sweep (engine.forward over task-ordered rows, rng.bytes picks)."""
    n = base.shape[0]
    out = np.empty(draws, dtype=np.float32)
    chunk = max(forecast.MIN_CHUNK, forecast.CHUNK_CELLS // max(1, n))
    for lo in range(0, draws, chunk):
        width = min(chunk, draws - lo)
        duration = np.repeat(base.astype(np.float32)[:, None], width, axis=1)
        duration[remaining] = planned[remaining, None] * forecast._multipliers(rng, table, (remaining.size, width))
        in_flight = remaining[started[remaining]]
        duration[in_flight] = np.maximum(duration[in_flight], (now + 1 - earliest[in_flight])[:, None])
        out[lo:lo + width] = engine.forward(lv, duration, earliest)[1].max(axis=0)
    return out


@pytest.mark.parametrize(("n", "seed", "draws"), [(1, 0, 300), (40, 1, 1000), (700, 2, 2500), (3000, 3, 1500),
                                                  (999, 4, 1001)])
def test_sweep_matches_the_forward_pass_bit_for_bit(n: int, seed: int, draws: int) -> None:
    duration, pred, succ, lag = random_dag(n, seed)
    lv = engine.levels(n, pred, succ, lag)
    rng = np.random.default_rng(seed)
    done = rng.random(n) < 0.3
    started = ~done & (rng.random(n) < 0.2)
    remaining = np.flatnonzero(~done)
    earliest = rng.integers(0, 30, size=n).astype(np.float32)
    planned = duration.astype(np.float32)
    table = forecast.prior_table()
    groups = [np.flatnonzero(rng.random(n) < 0.2), np.zeros(0, np.int64)]
    ours, per_group = forecast.simulate(lv, np.random.default_rng(9), table, draws=draws, base=duration,
                                        planned=planned, earliest=earliest, remaining=remaining, started=started,
                                        now=12.0, groups=groups)
    theirs = reference(lv, np.random.default_rng(9), table, draws=draws, base=duration, planned=planned,
                       earliest=earliest, remaining=remaining, started=started, now=12.0)
    assert np.array_equal(ours, theirs)
    # Single draw check of a milestone group against the critical-path engine's forward pass.
    plan = engine.sweep_plan(lv)
    d = duration.astype(np.float32)[plan.order][:, None]
    finish = engine.sweep(plan, d, earliest[plan.order])
    _es, ef = engine.forward(lv, duration.astype(np.float32), earliest)
    assert np.array_equal(finish[plan.row, 0], ef)
    if groups[0].size:
        assert per_group.shape == (2, draws)


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_forecast_figures_unchanged_for_a_fixed_seed(session: Session) -> None:
    """Figures recorded with the forecast before the sweep and the cache (same project, seed and day)."""
    user = make_user(session)
    project = make_project(session, user=user)
    start = dt.date(2026, 3, 2)
    m1 = service.create_milestone(session, project_id=project.id, user=user, name="Data", start_date=start,
                                  due_date=dt.date(2026, 3, 20))
    ids = []
    for k in range(12):
        s = start + dt.timedelta(days=3 * k)
        task = service.create_task(session, project_id=project.id, user=user, title=f"T{k}", start_date=s,
                                   due_date=s + dt.timedelta(days=2 + k % 3), milestone_id=m1.id if k < 5 else None,
                                   status="done" if k < 2 else "in_progress" if k == 2 else "todo",
                                   completed_on=s + dt.timedelta(days=4) if k < 2 else None)
        ids.append(task.id)
    for a, b in ((0, 3), (1, 3), (3, 6), (2, 7), (6, 9), (7, 9), (9, 11)):
        scheduling.add_dependency(session, project_id=project.id, user=user, predecessor_id=ids[a],
                                  successor_id=ids[b], lag_days=1)
    result = forecast.forecast(session, project_id=project.id, today=dt.date(2026, 3, 10), seed=7)
    assert result.source == "prior" and result.finished_tasks == 2 and result.remaining_tasks == 10
    got = (result.project.p50, result.project.p85, result.project.late_probability,
           result.milestones[0].p50, result.milestones[0].p85, result.milestones[0].late_probability,
           result.histogram[:3])
    assert got == EXPECTED
    # Read again: the cached result, the same figures.
    assert forecast.forecast(session, project_id=project.id, today=dt.date(2026, 3, 10), seed=7) == result


# Printed by the forecast as it was before the sweep, the raw picks and the cache (commit 928895e).
EXPECTED: tuple[object, ...] = (
    dt.date(2026, 4, 10), dt.date(2026, 4, 13), 1.0, dt.date(2026, 3, 18), dt.date(2026, 3, 20), 0.1499,
    [(dt.date(2026, 4, 5), 1), (dt.date(2026, 4, 6), 110), (dt.date(2026, 4, 7), 657)])


@pytest.mark.parametrize(("n", "threads", "done_share"), [(500, 1, 0.0), (500, 3, 0.0), (800, 2, 0.4), (5, 4, 0.0)])
def test_threads_and_buffers_do_not_change_the_draws(monkeypatch: pytest.MonkeyPatch, n: int, threads: int,
                                                     done_share: float) -> None:
    """The same figures with any number of threads, every task remaining or not (the two ways of filling)."""
    duration, pred, succ, lag = random_dag(n, 5)
    lv = engine.levels(n, pred, succ, lag)
    rng = np.random.default_rng(5)
    done = rng.random(n) < done_share
    started = ~done & (rng.random(n) < 0.2)
    remaining = np.flatnonzero(~done)
    earliest = rng.integers(0, 30, size=n).astype(np.float32)
    planned = duration.astype(np.float32)
    groups = [np.arange(0, n, 2)]
    monkeypatch.setattr(forecast, "CHUNK_CELLS", 300 * n)  # several chunks, the last one narrower
    kwargs = {"draws": 1111, "base": duration, "planned": planned, "earliest": earliest, "remaining": remaining,
              "started": started, "now": 12.0, "groups": groups}
    monkeypatch.setattr(forecast, "THREADS", threads)
    ours = forecast.simulate(lv, np.random.default_rng(3), forecast.prior_table(), **kwargs)  # type: ignore[arg-type]
    theirs = reference(lv, np.random.default_rng(3), forecast.prior_table(), draws=1111, base=duration,
                       planned=planned, earliest=earliest, remaining=remaining, started=started, now=12.0)
    assert np.array_equal(ours[0], theirs)
    monkeypatch.setattr(forecast, "THREADS", 1)
    single = forecast.simulate(lv, np.random.default_rng(3), forecast.prior_table(), **kwargs)  # type: ignore[arg-type]
    assert np.array_equal(ours[1], single[1]) and np.array_equal(ours[0], single[0])
