"""Inference telemetry: one plain event per request, handed to a bounded buffer that never blocks.

The buffer belongs to the data plane so it works without a database; whoever drains it (the monitoring
sink in the control plane) decides where events go.
"""

from __future__ import annotations

import datetime as dt
import math
import queue
import random
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from mlpilot.core.errors import InvalidInput

# The column that carries the model's answer in live samples and drift references.
PREDICTION_COLUMN = "__prediction__"


@dataclass(frozen=True)
class InferenceEvent:
    service: str
    model_version: str
    ts: dt.datetime
    latency_ms: float
    status_code: int
    rows: int
    error: str | None = None
    # Which backend answered (routing.py label, "" = the service's only model) and its role:
    # primary | canary | shadow (shadow answers were discarded; see /work/notes/telemetry-fields.md).
    backend: str = ""
    role: str = "primary"


class EventSink(Protocol):
    """Accepts events without blocking the request that produced them."""

    def put(self, event: InferenceEvent) -> None: ...


class EventBuffer:
    """A bounded FIFO of events: `put` never waits; when full the event is dropped and counted."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._queue: queue.Queue[InferenceEvent] = queue.Queue(maxsize=capacity)
        self._lock = threading.Lock()
        self.accepted = 0
        self.dropped = 0

    def put(self, event: InferenceEvent) -> None:
        """Queue `event`, or drop it when the buffer is full."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            with self._lock:
                self.dropped += 1
            return
        with self._lock:
            self.accepted += 1

    def drain(self, limit: int | None = None) -> list[InferenceEvent]:
        """Take up to `limit` queued events (all when None), oldest first."""
        events: list[InferenceEvent] = []
        while limit is None or len(events) < limit:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return events

    def __len__(self) -> int:
        return self._queue.qsize()


class PredictionLog:
    """Bounded map (service, request id) → (time, prediction); thread-safe; drops the oldest when full."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise InvalidInput(f"The prediction log needs a positive capacity, not {capacity}.")
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], tuple[dt.datetime, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.evicted = 0

    def add(self, service: str, request_id: str, ts: dt.datetime, prediction: Any) -> None:
        with self._lock:
            self._entries[(service, request_id)] = (ts, prediction)
            self._entries.move_to_end((service, request_id))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
                self.evicted += 1

    def get(self, service: str, request_id: str) -> tuple[dt.datetime, Any] | None:
        with self._lock:
            return self._entries.get((service, request_id))

    def __len__(self) -> int:
        return len(self._entries)


class TrafficSample:
    """Per service and time window, a uniform sample (algorithm R) of answered requests for live drift.

    Only a sampled request is copied (its first `rows_per_request` rows and their predictions), so the request
    path pays a lock, a clock read and a random draw; memory stays bounded by windows × requests × rows.
    Conversion to frames happens when drift is asked for, off the request path.
    """

    def __init__(self, *, requests_per_window: int, window_s: int, windows: int, rows_per_request: int,
                 seed: int | None = None) -> None:
        if min(requests_per_window, window_s, windows, rows_per_request) <= 0:
            raise InvalidInput("A traffic sample needs positive capacity, window length, window count and rows.")
        self.capacity, self.window_s = requests_per_window, window_s
        self.max_windows, self.rows_per_request = windows, rows_per_request
        self._random = random.Random(seed)
        # service → OrderedDict[window start (epoch s) → [seen, items]]
        self._windows: dict[str, OrderedDict[int, list[Any]]] = {}
        self._lock = threading.Lock()

    def add(self, service: str, columns: Any, prediction: Any, rows: int, *, now: float | None = None) -> None:
        """Offer one answered request: `columns` maps input name → array, `prediction` holds labels or values."""
        if rows <= 0:
            return
        ts = time.time() if now is None else now
        start = int(math.floor(ts / self.window_s) * self.window_s)
        with self._lock:
            windows = self._windows.get(service)
            if windows is None:
                windows = self._windows[service] = OrderedDict()
            window = windows.get(start)
            if window is None:
                window = windows[start] = [0, []]
                while len(windows) > self.max_windows:
                    windows.popitem(last=False)
            window[0] += 1
            seen, items = window
            if len(items) < self.capacity:
                slot = len(items)
                items.append(None)
            else:
                slot = self._random.randrange(seen)
                if slot >= self.capacity:
                    return
        items[slot] = _copy_rows(columns, prediction, min(rows, self.rows_per_request))

    def windows(self, service: str) -> list[tuple[dt.datetime, int, dict[str, list[Any]]]]:
        """Return (window start, requests seen, sampled columns) per window, oldest first."""
        with self._lock:
            snapshot = [(start, seen, list(items)) for start, (seen, items) in self._windows.get(service, {}).items()]
        result = []
        for start, seen, items in snapshot:
            merged: dict[str, list[Any]] = {}
            for item in items:
                if item is None:  # being copied right now
                    continue
                for name, values in item.items():
                    merged.setdefault(name, []).extend(values)
            result.append((dt.datetime.fromtimestamp(start, dt.UTC), seen, merged))
        return result

    def services(self) -> list[str]:
        with self._lock:
            return sorted(self._windows)

    def clear(self, service: str) -> None:
        """Forget a service's sample (its model changed, so old traffic says nothing about the new one)."""
        with self._lock:
            self._windows.pop(service, None)


def _copy_rows(columns: Any, prediction: Any, k: int) -> dict[str, list[Any]]:
    item: dict[str, list[Any]] = {}
    for name, values in columns.items():
        part = values[:k]
        item[name] = part.tolist() if isinstance(part, np.ndarray) else list(part)
    labels = getattr(prediction, "labels", None)
    values = getattr(prediction, "values", None)
    if labels is not None:
        item[PREDICTION_COLUMN] = [str(v) for v in labels[:k]]
    elif values is not None:
        item[PREDICTION_COLUMN] = [float(v) for v in values[:k]]
    return item
