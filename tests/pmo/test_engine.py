"""The schedule engine over arrays: same longest path as networkx, float, lag, cycles, and the forecast's passes."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from mlpilot.pmo import engine


def random_dag(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pairs = {(int(j), i) for i in range(1, n) for j in rng.integers(max(0, i - 30), i, size=rng.integers(0, 4))}
    pred = np.array([a for a, _ in sorted(pairs)], dtype=np.int64)
    succ = np.array([b for _, b in sorted(pairs)], dtype=np.int64)
    return rng.uniform(1, 20, size=n), pred, succ, rng.integers(0, 3, size=len(pred)).astype(float)


def networkx_path(duration: np.ndarray, pred: np.ndarray, succ: np.ndarray, lag: np.ndarray) -> tuple[list, float]:
    graph = nx.DiGraph()
    for a, b, lag_ab in zip(pred.tolist(), succ.tolist(), lag.tolist(), strict=True):
        graph.add_edge(a, b, weight=duration[a] + lag_ab)
    for i in range(len(duration)):  # a source and a sink turn task durations into edge weights
        graph.add_edge("start", i, weight=0.0)
        graph.add_edge(i, "end", weight=duration[i])
    path = nx.dag_longest_path(graph)
    return path[1:-1], sum(graph[a][b]["weight"] for a, b in zip(path, path[1:], strict=False))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_critical_path_as_networkx(seed: int) -> None:
    duration, pred, succ, lag = random_dag(400, seed)
    result = engine.critical_path(duration, np.zeros(400), pred, succ, lag)
    path, length = networkx_path(duration, pred, succ, lag)
    assert result.path == path
    assert result.finish == pytest.approx(length)
    assert result.critical[result.path].all()
    assert (result.total_float >= 0).all() and (result.total_float > 1e-6).any()


def test_float_lag_and_earliest_start() -> None:
    # 0 → 1 (lag 2) → 3 ; 0 → 2 → 3 ; task 2 is short, so it has float.
    duration = np.array([3.0, 4.0, 1.0, 2.0])
    pred, succ, lag = np.array([0, 1, 0, 2]), np.array([1, 3, 2, 3]), np.array([2.0, 0.0, 0.0, 0.0])
    result = engine.critical_path(duration, np.zeros(4), pred, succ, lag)
    assert result.early_start.tolist() == [0, 5, 3, 9]
    assert result.finish == 11
    assert result.total_float.tolist() == [0, 0, 5, 0]
    assert result.path == [0, 1, 3]
    # A task that may not start before day 20 drives the finish and becomes the start of the path.
    late_start = engine.critical_path(duration, np.array([0, 0, 20, 0.0]), pred, succ, lag)
    assert late_start.path == [2, 3] and late_start.finish == 23


def test_a_cycle_is_refused_with_its_tasks() -> None:
    pred, succ = np.array([0, 1, 2, 3]), np.array([1, 2, 3, 1])
    with pytest.raises(engine.DependencyCycle) as caught:
        engine.levels(4, pred, succ, np.zeros(4))
    assert sorted(caught.value.cycle) == [1, 2, 3]


def test_forward_over_draws_matches_one_draw_at_a_time() -> None:
    duration, pred, succ, lag = random_dag(120, 7)
    lv = engine.levels(120, pred, succ, lag)
    draws = duration[:, None] * np.random.default_rng(0).uniform(0.5, 2.0, size=(120, 16))
    _start, finish = engine.forward(lv, draws, np.zeros(120))
    for d in range(16):
        one = engine.critical_path(draws[:, d], np.zeros(120), pred, succ, lag)
        assert finish[:, d].max() == pytest.approx(one.finish)
