"""Prometheus series of the data plane: requests, errors, rows and latency per service, model version, backend
and role (primary / canary / shadow), so a canary or a shadow candidate shows up as its own series.

Each DataPlane owns its own registry, so several planes in one process (tests) never share counters; the
observations are in-memory and cost about a microsecond on the request path.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class DataPlaneMetrics:
    """The data plane's Prometheus collectors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Backends are the few a service routes to (routing.py labels), so the label set stays small.
        labels = ("service", "model_version", "backend", "role")
        self.requests = Counter("mlpilot_inference_requests", "Inference requests answered.",
                                (*labels, "status"), registry=self.registry)
        self.rows = Counter("mlpilot_inference_rows", "Rows predicted.", labels, registry=self.registry)
        self.latency = Histogram("mlpilot_inference_latency_seconds", "Time to answer an inference request.",
                                 labels, buckets=LATENCY_BUCKETS, registry=self.registry)
        self._children: dict[tuple[str, str, str, str, int], tuple[Any, Any, Any]] = {}
        self.loaded = Gauge("mlpilot_models_loaded", "Models loaded and serving.", registry=self.registry)
        self.telemetry_dropped = Gauge("mlpilot_telemetry_dropped",
                                       "Inference records dropped because the telemetry buffer was full.",
                                       registry=self.registry)

    def observe(self, service: str, model_version: str, status_code: int, rows: int, seconds: float, *,
                backend: str = "", role: str = "primary") -> None:
        """Count one answered request."""
        key = (service, model_version, backend, role, status_code)
        children = self._children.get(key)
        if children is None:
            # Resolving labelled children costs a few µs (tuple, lock, dict); the request path pays it once.
            labels = (service, model_version, backend, role)
            children = self._children[key] = (self.requests.labels(*labels, str(status_code)),
                                              self.rows.labels(*labels), self.latency.labels(*labels))
        requests, row_counter, latency = children
        requests.inc()
        if rows:
            row_counter.inc(rows)
        latency.observe(seconds)

    def exposition(self) -> bytes:
        """Return the registry in the Prometheus text format."""
        return generate_latest(self.registry)
