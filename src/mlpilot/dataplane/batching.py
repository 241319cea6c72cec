"""Adaptive micro-batching: concurrent requests for the same model share one predict call.

There is no timer and no batch size to tune. A request's decoded matrix is queued and a flush is scheduled
with `loop.call_soon`, which runs right after the event loop has handled every socket that was readable in
the same turn: all requests that arrived together go into one call, and a lone request (concurrency 1)
waits only for that one loop turn (microseconds). Small batches are predicted on the loop itself (cheaper
than a thread hop); large ones on one worker thread (native predictors release the GIL) while the loop
keeps reading — whatever queues meanwhile becomes the next batch, so the batch size follows the load.

Only numeric models with a `predict_matrix` are batched; every request still gets its own answer (rows
are split back by offset), and a batch whose predict fails is retried request by request so one bad
request cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from mlpilot.registry.flavors import Prediction

log = logging.getLogger(__name__)

# Batches up to this many rows are predicted on the event loop; larger ones on the worker thread.
INLINE_ROWS = 64
# Upper bound of rows in one coalesced predict call (requests beyond it wait for the next call).
MAX_BATCH_ROWS = 4096

Done = Callable[[Prediction | None, BaseException | None], None]


def split_prediction(prediction: Prediction, start: int, stop: int) -> Prediction:
    """Return rows [start, stop) of a prediction."""
    return Prediction(
        probabilities=None if prediction.probabilities is None else prediction.probabilities[start:stop],
        labels=None if prediction.labels is None else prediction.labels[start:stop],
        values=None if prediction.values is None else prediction.values[start:stop],
    )


def predict_together(model: Any, matrices: list[np.ndarray]) -> list[tuple[Prediction | None, BaseException | None]]:
    """Predict several requests' matrices with one call; return each request's own rows (or its error)."""
    if len(matrices) == 1:
        try:
            return [(model.predict_matrix(matrices[0]), None)]
        except Exception as exc:
            return [(None, exc)]
    try:
        joined = model.predict_matrix(np.concatenate(matrices))
    except Exception:
        # One request may hold what the model refuses; answer each on its own so only that one fails.
        results: list[tuple[Prediction | None, BaseException | None]] = []
        for matrix in matrices:
            try:
                results.append((model.predict_matrix(matrix), None))
            except Exception as exc:
                results.append((None, exc))
        return results
    answers: list[tuple[Prediction | None, BaseException | None]] = []
    start = 0
    for matrix in matrices:
        stop = start + matrix.shape[0]
        answers.append((split_prediction(joined, start, stop), None))
        start = stop
    return answers


class _Queue:
    __slots__ = ("busy", "items", "model", "rows", "scheduled")

    def __init__(self, model: Any) -> None:
        self.model = model
        self.items: list[tuple[np.ndarray, Done]] = []
        self.rows = 0
        self.scheduled = False
        self.busy = False


class MicroBatcher:
    """Per-model queues on one event loop; `submit` never blocks and calls `done` exactly once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, inline_rows: int = INLINE_ROWS,
                 max_batch_rows: int = MAX_BATCH_ROWS) -> None:
        self.loop = loop
        self.inline_rows = inline_rows
        self.max_batch_rows = max_batch_rows
        self._queues: dict[int, _Queue] = {}
        self._executor: ThreadPoolExecutor | None = None
        # Counters for the benchmark and tests: predict calls made and requests they answered.
        self.calls = 0
        self.requests = 0

    def submit(self, model: Any, matrix: np.ndarray, done: Done) -> None:
        """Queue one request's (rows, k) float64 matrix for `model` (anything with `predict_matrix`)."""
        key = id(model)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue(model)
        queue.items.append((matrix, done))
        queue.rows += matrix.shape[0]
        if not queue.scheduled and not queue.busy:
            queue.scheduled = True
            self.loop.call_soon(self._flush, key)

    def _take(self, queue: _Queue) -> list[tuple[np.ndarray, Done]]:
        items, rows = queue.items, queue.rows
        if rows <= self.max_batch_rows:
            queue.items, queue.rows = [], 0
            return items
        taken: list[tuple[np.ndarray, Done]] = []
        count = 0
        while queue.items and (not taken or count + queue.items[0][0].shape[0] <= self.max_batch_rows):
            item = queue.items.pop(0)
            count += item[0].shape[0]
            taken.append(item)
        queue.rows -= count
        return taken

    def _flush(self, key: int) -> None:
        queue = self._queues.get(key)
        if queue is None:
            return
        queue.scheduled = False
        if queue.busy:
            return
        if not queue.items:
            del self._queues[key]
            return
        rows = queue.rows
        items = self._take(queue)
        self.calls += 1
        self.requests += len(items)
        if min(rows, self.max_batch_rows) <= self.inline_rows:
            self._deliver(items, predict_together(queue.model, [m for m, _ in items]))
            self._again(key, queue)
            return
        queue.busy = True
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlpilot-predict")
        future = self._executor.submit(predict_together, queue.model, [m for m, _ in items])
        future.add_done_callback(lambda f: self.loop.call_soon_threadsafe(self._finished, key, queue, items, f))

    def _finished(self, key: int, queue: _Queue, items: list[tuple[np.ndarray, Done]], future: Future) -> None:
        queue.busy = False
        try:
            results = future.result()
        except BaseException as exc:  # the worker itself failed (not the model): fail this batch only
            results = [(None, exc)] * len(items)
        self._deliver(items, results)
        self._again(key, queue)

    def _again(self, key: int, queue: _Queue) -> None:
        if queue.items:
            if not queue.scheduled:
                queue.scheduled = True
                self.loop.call_soon(self._flush, key)
        elif self._queues.get(key) is queue:
            del self._queues[key]

    @staticmethod
    def _deliver(items: list[tuple[np.ndarray, Done]],
                 results: list[tuple[Prediction | None, BaseException | None]]) -> None:
        for (_, done), (prediction, error) in zip(items, results, strict=True):
            try:
                done(prediction, error)
            except Exception:
                log.exception("answering a batched request failed")

    def close(self) -> None:
        """Stop the worker thread (queued requests are answered first)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


__all__ = ["INLINE_ROWS", "MicroBatcher", "predict_together", "split_prediction"]
