"""Inference telemetry: one plain event per request, handed to a bounded buffer that never blocks.

The buffer belongs to the data plane so it works without a database; whoever drains it (the monitoring
sink in the control plane) decides where events go.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from mlpilot.core.errors import InvalidInput

# Request ids kept for joining ground truth (feedback) to predictions; the oldest fall out first.
PREDICTION_LOG_CAPACITY = 100_000


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
