"""The inference-log sink: a background thread that moves buffered telemetry into the database in batches.

Requests only put events into the bounded buffer; this thread is the only writer, so the request path
never waits on the metadata database.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.dataplane.telemetry import EventBuffer, InferenceEvent
from mlpilot.monitoring.models import InferenceLog

log = logging.getLogger(__name__)
BATCH_SIZE = 5000


@dataclass(frozen=True)
class SinkStats:
    accepted: int
    dropped: int
    written: int
    lost: int
    queued: int


class InferenceSink:
    """Buffers events from the data plane and writes them every `flush_seconds` in its own session."""

    def __init__(self, sessions: sessionmaker[Session], *, capacity: int, flush_seconds: float) -> None:
        self.sessions = sessions
        self.buffer = EventBuffer(capacity)
        self.flush_seconds = flush_seconds
        self.written = 0
        self.lost = 0
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def put(self, event: InferenceEvent) -> None:
        """Accept an event without blocking (dropped and counted when the buffer is full)."""
        self.buffer.put(event)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the background writer (no-op when it runs)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mlpilot-inference-sink", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the writer and store whatever is still buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.flush()

    def flush(self) -> int:
        """Write every buffered event now; return how many were written."""
        total = 0
        with self._flush_lock:
            while True:
                events = self.buffer.drain(BATCH_SIZE)
                if not events:
                    return total
                try:
                    with session_scope(self.sessions) as session, unit_of_work(session):
                        session.execute(insert(InferenceLog), [asdict(e) for e in events])
                except Exception:
                    # Telemetry must never take the server down; the count shows what was lost.
                    log.exception("could not store %d inference record(s)", len(events))
                    self.lost += len(events)
                    return total
                self.written += len(events)
                total += len(events)

    def stats(self) -> SinkStats:
        """Return counters: accepted, dropped (buffer full), written, lost (database errors), queued."""
        return SinkStats(accepted=self.buffer.accepted, dropped=self.buffer.dropped, written=self.written,
                         lost=self.lost, queued=len(self.buffer))

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()
