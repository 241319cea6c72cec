"""The schedule engine: critical path and float by a forward/backward pass over arrays.

Tasks are indices 0..n-1 with a duration and an earliest allowed start (both in days from an origin);
finish-to-start edges carry a lag in days. The passes walk the graph one topological *level* at a time (all
tasks whose predecessors are all in earlier levels), so each level is a handful of numpy operations over its
edges instead of a Python loop over tasks: 5,000 tasks take a few milliseconds. The forecast reuses the levels
with a second axis of Monte Carlo draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from mlpilot.core.errors import InvalidInput

FloatArray = NDArray[np.float64]
# The forecast runs the forward pass in float32 (half the memory traffic); critical paths in float64.
F = TypeVar("F", np.float32, np.float64)
IntArray = NDArray[np.int64]
EPSILON = 1e-9


class DependencyCycle(InvalidInput):
    """The dependencies loop back on themselves; `cycle` holds the task indices around the loop."""

    def __init__(self, detail: str, cycle: list[int]) -> None:
        super().__init__(detail)
        self.cycle = cycle


@dataclass(frozen=True)
class Levels:
    """Edges grouped for the passes: by the level of their successor (forward) and of their predecessor (backward)."""

    level: IntArray            # level of every task
    nodes: list[IntArray]      # tasks of each level
    fwd: tuple[IntArray, IntArray, FloatArray]   # (pred, succ, lag) sorted by the successor's level
    fwd_bounds: list[int]      # edges into level k: fwd[...][fwd_bounds[k]:fwd_bounds[k + 1]]
    bwd: tuple[IntArray, IntArray, FloatArray]   # sorted by the predecessor's level
    bwd_bounds: list[int]
    fwd_rank: IntArray         # per forward edge: its position among the edges into the same successor

    def into(self, k: int) -> tuple[IntArray, IntArray, FloatArray]:
        a, b = self.fwd_bounds[k], self.fwd_bounds[k + 1]
        return self.fwd[0][a:b], self.fwd[1][a:b], self.fwd[2][a:b]

    def out_of(self, k: int) -> tuple[IntArray, IntArray, FloatArray]:
        a, b = self.bwd_bounds[k], self.bwd_bounds[k + 1]
        return self.bwd[0][a:b], self.bwd[1][a:b], self.bwd[2][a:b]


@dataclass(frozen=True)
class CriticalPath:
    early_start: FloatArray
    early_finish: FloatArray
    late_start: FloatArray
    late_finish: FloatArray
    total_float: FloatArray
    finish: float
    path: list[int]            # task indices from the first to the last task of the critical path

    @property
    def critical(self) -> NDArray[np.bool_]:
        return np.asarray(self.total_float <= EPSILON)


def find_cycle(n: int, pred: IntArray, succ: IntArray, remaining: IntArray) -> list[int]:
    """Return one cycle among `remaining` tasks (those a topological sort could not place), as task indices.

    Each of them keeps a predecessor that is also remaining, so walking predecessors never dead-ends and must
    revisit a task: the walk from its first visit is the loop.
    """
    inside = np.zeros(n, dtype=bool)
    inside[remaining] = True
    before: dict[int, int] = {}
    for a, b in zip(pred.tolist(), succ.tolist(), strict=True):
        if inside[a] and inside[b]:
            before.setdefault(b, a)
    seen: dict[int, int] = {}
    walk: list[int] = []
    node = int(remaining[0])
    while node not in seen:
        seen[node] = len(walk)
        walk.append(node)
        node = before[node]
    return walk[seen[node]:][::-1]


def levels(n: int, pred: IntArray, succ: IntArray, lag: FloatArray) -> Levels:
    """Group tasks into topological levels (Kahn's algorithm, one frontier at a time); raise on a cycle."""
    indegree = np.bincount(succ, minlength=n).astype(np.int64)
    by_pred = np.argsort(pred, kind="stable")
    out_start = np.searchsorted(pred[by_pred], np.arange(n + 1))
    level = np.full(n, -1, dtype=np.int64)
    frontier = np.flatnonzero(indegree == 0)
    depth = 0
    nodes: list[IntArray] = []
    while frontier.size:
        level[frontier] = depth
        nodes.append(frontier)
        starts, ends = out_start[frontier], out_start[frontier + 1]
        counts = ends - starts
        total = int(counts.sum())
        if total == 0:
            break
        # Positions of all out-edges of the frontier, without a Python loop: ranges start..end concatenated.
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        targets = succ[by_pred[offsets]]
        np.subtract.at(indegree, targets, 1)
        frontier = np.unique(targets[indegree[targets] == 0])
        depth += 1
    if (level < 0).any():
        raise DependencyCycle("The dependencies form a cycle.", find_cycle(n, pred, succ, np.flatnonzero(level < 0)))
    fwd_order = np.lexsort((succ, level[succ]))  # by level, then successor: the forecast reduces runs of equals
    bwd_order = np.argsort(level[pred], kind="stable")
    steps = np.arange(len(nodes) + 1)
    fwd_bounds = np.searchsorted(level[succ][fwd_order], steps).tolist()
    ordered = succ[fwd_order]
    heads = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if ordered.size else np.zeros(0, np.int64)
    runs = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1 if ordered.size else np.zeros(0, np.int64)
    rank = np.arange(ordered.size) - heads[runs] if ordered.size else np.zeros(0, np.int64)
    bwd_bounds = np.searchsorted(level[pred][bwd_order], steps).tolist()
    return Levels(level=level, nodes=nodes, fwd=(pred[fwd_order], succ[fwd_order], lag[fwd_order]),
                  fwd_bounds=fwd_bounds, bwd=(pred[bwd_order], succ[bwd_order], lag[bwd_order]),
                  bwd_bounds=bwd_bounds, fwd_rank=rank.astype(np.int64))


def forward(lv: Levels, duration: NDArray[F], earliest: NDArray[F]) -> tuple[NDArray[F], NDArray[F]]:
    """Early start/finish: a task starts at its earliest allowed day or when its last predecessor (+lag) is done.

    `duration` and `earliest` may have a trailing axis of draws (shape (n,) or (n, draws)).
    """
    column = earliest if earliest.ndim == duration.ndim else earliest[:, None]
    start = np.empty_like(duration)
    start[...] = column
    finish = np.empty_like(duration)
    for k, members in enumerate(lv.nodes):
        p, s, lag = lv.into(k)
        if p.size and finish.ndim == 1:
            np.maximum.at(start, s, finish[p] + lag)
        elif p.size:
            # Rows of draws: ufunc.at and reduceat are slow on 2-D, so take the edges by rank (first edge into
            # each successor, then the second, ...): within one rank no successor repeats, so a plain gather,
            # maximum and scatter of whole rows is exact.
            a, b = lv.fwd_bounds[k], lv.fwd_bounds[k + 1]
            rank = lv.fwd_rank[a:b]
            lag_rows = lag.astype(finish.dtype)[:, None]
            for r in range(int(rank.max()) + 1):
                pick = rank == r
                targets = s[pick]
                start[targets] = np.maximum(start[targets], finish[p[pick]] + lag_rows[pick])
        finish[members] = start[members] + duration[members]
    return start, finish


def critical_path(duration: FloatArray, earliest: FloatArray, pred: IntArray, succ: IntArray,
                  lag: FloatArray, lv: Levels | None = None) -> CriticalPath:
    """Forward and backward pass: early/late dates, total float, and the longest (critical) chain of tasks."""
    n = duration.shape[0]
    lv = lv or levels(n, pred, succ, lag)
    es, ef = forward(lv, duration, earliest)
    finish = float(ef.max()) if n else 0.0
    lf = np.full(n, finish)
    ls = np.empty(n)
    for k in range(len(lv.nodes) - 1, -1, -1):
        p, s, lag_k = lv.out_of(k)
        if p.size:
            np.minimum.at(lf, p, ls[s] - lag_k)
        members = lv.nodes[k]
        ls[members] = lf[members] - duration[members]
    total_float = np.maximum(ls - es, 0.0)
    return CriticalPath(es, ef, ls, lf, total_float, finish, _chain(n, es, ef, pred, succ, lag))


def _chain(n: int, es: FloatArray, ef: FloatArray, pred: IntArray, succ: IntArray, lag: FloatArray) -> list[int]:
    """Walk back from the last-finishing task through the predecessor that set each start (the driving one)."""
    if n == 0:
        return []
    # Every predecessor that meets the start exactly gives the same ready day, so any of them drives it.
    meets = np.abs(ef[pred] + lag - es[succ]) <= EPSILON
    driving = np.full(n, -1, dtype=np.int64)
    driving[succ[meets]] = pred[meets]
    node = int(np.argmax(ef))
    path = [node]
    while driving[node] >= 0:
        node = int(driving[node])
        path.append(node)
    return path[::-1]


@dataclass(frozen=True)
class Sweep:
    """The levels laid out for a forward pass over many draws at once (the forecast).

    Tasks are renumbered level by level (`order[row]` is the task of a row, `row[task]` its row), so every level
    is a contiguous block of rows of a (tasks × draws) array. Every task above level 0 has a predecessor, so the
    first incoming edge of each member (rank 0) fills the whole block with one gather; the few further edges
    (ranks 1, 2, ...) are each a gather, maximum and scatter of whole rows. The numbers are the same as
    `forward`'s: the same float32 additions, and a maximum does not depend on the order it is taken in.
    """

    order: IntArray
    row: IntArray
    bounds: list[int]
    first: list[tuple[IntArray, NDArray[np.float32]]]
    extra: list[list[tuple[IntArray, IntArray, NDArray[np.float32]]]]


def sweep_plan(lv: Levels) -> Sweep:
    n = lv.level.shape[0]
    order = np.concatenate(lv.nodes) if lv.nodes else np.zeros(0, np.int64)
    row = np.empty(n, dtype=np.int64)
    row[order] = np.arange(n)
    bounds = np.cumsum([0, *(len(m) for m in lv.nodes)]).tolist()
    first: list[tuple[IntArray, NDArray[np.float32]]] = []
    extra: list[list[tuple[IntArray, IntArray, NDArray[np.float32]]]] = []
    for k, members in enumerate(lv.nodes):
        p, s, lag = lv.into(k)
        a, b = lv.fwd_bounds[k], lv.fwd_bounds[k + 1]
        rank = lv.fwd_rank[a:b]
        if k == 0:
            first.append((np.zeros(0, np.int64), np.zeros(0, np.float32)))
            extra.append([])
            continue
        head = rank == 0
        # Edges are sorted by successor and the members too, so rank 0 lines up with the block's rows.
        assert np.array_equal(s[head], members), "every task above level 0 waits for a task of a lower level"
        first.append((row[p[head]], lag[head].astype(np.float32)))
        extra.append([(row[s[rank == r]], row[p[rank == r]], lag[rank == r].astype(np.float32))
                      for r in range(1, int(rank.max()) + 1)])
    return Sweep(order=order, row=row, bounds=bounds, first=first, extra=extra)


def sweep(plan: Sweep, duration: NDArray[np.float32], earliest: NDArray[np.float32],
          out: NDArray[np.float32] | None = None) -> NDArray[np.float32]:
    """Early finish of every row (task in `plan.row` order) and draw: `duration` is (tasks × draws) in row order,
    `earliest` (tasks,) in row order; `out` (same shape) is filled and returned when given (no allocation)."""
    finish = np.empty_like(duration) if out is None else out
    for k in range(len(plan.bounds) - 1):
        a, b = plan.bounds[k], plan.bounds[k + 1]
        block = finish[a:b]
        if k == 0:
            np.add(earliest[a:b, None], duration[a:b], out=block)
            continue
        preds, lag = plan.first[k]
        block[...] = finish[preds]
        block += lag[:, None]
        np.maximum(block, earliest[a:b, None], out=block)
        for rows, others, lag_r in plan.extra[k]:
            candidate = finish[others]
            candidate += lag_r[:, None]
            finish[rows] = np.maximum(finish[rows], candidate)
        block += duration[a:b]
    return finish
