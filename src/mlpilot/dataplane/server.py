"""The data plane: models held in memory and served over the Open Inference Protocol V2 (REST).

It never touches the metadata database: the control plane tells it what to load (a model folder and a
version label) and drains its telemetry. The HTTP front doors (`dataplane.asgi` for any FastAPI app,
`dataplane.fasthttp` for `mlpilot serve`) call it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from mlpilot.core.errors import InvalidInput, MlpilotError, NotFound, Unavailable
from mlpilot.dataplane import fastpredict
from mlpilot.dataplane.auth import TokenGate
from mlpilot.dataplane.batching import MicroBatcher
from mlpilot.dataplane.metrics import DataPlaneMetrics
from mlpilot.dataplane.pipeline import BinaryOutputs, InferenceCall, Reply
from mlpilot.dataplane.protocol import Batch, tensor_metadata
from mlpilot.dataplane.recipe import with_row_steps
from mlpilot.dataplane.telemetry import EventSink, InferenceEvent, PredictionLog, TrafficSample
from mlpilot.registry.flavors import REFERENCE_FILE, LoadedModel, Prediction, load_model
from mlpilot.registry.signature import Signature

log = logging.getLogger(__name__)
SERVER_NAME = "mlpilot"


@dataclass(frozen=True)
class ServedModel:
    """A model ready to answer requests, with what the protocol's metadata reports about it."""

    name: str
    version: str
    model: LoadedModel
    signature: Signature
    platform: str
    loaded_at: dt.datetime
    # Which backend this is (routing.py labels: "model:churn v3", "external:x") and its role in the service.
    backend: str = ""
    role: str = "primary"
    # The model folder it was loaded from (holds the training reference for live drift), when there is one.
    source: Path | None = None

    @cached_property
    def numeric_only(self) -> bool:
        return all(c.dtype != "string" for c in self.signature.inputs)


class DataPlane:
    """Service name → loaded model; loads swap in whole, requests emit telemetry without blocking."""

    def __init__(self, settings: Any, sink: EventSink | None = None) -> None:
        self.settings = settings
        self.sink = sink
        self._models: dict[str, ServedModel] = {}
        self._unavailable: dict[str, str] = {}
        # Multi-backend services (canary / shadow / external engines): name → routing.Route, set by routing.py.
        self.routes: dict[str, Any] = {}
        self.shadow_mirror: Any = None
        # Backends loaded ahead of the route change that will use them (label → model), newest first; routing.py.
        self.preloaded: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._starting = False
        # None: open (a standalone data plane without tokens); the control plane installs a TokenGate.
        self.gate: TokenGate | None = None
        self.metrics = DataPlaneMetrics()
        self._batcher: MicroBatcher | None = None
        # Request id → (time, first-row prediction) per service, so ground truth sent later can be joined.
        self.predictions = PredictionLog(getattr(settings, "prediction_log_capacity", 100_000))
        # Inputs and answers sampled per service and window, for live drift against the training reference.
        self.traffic = TrafficSample(requests_per_window=getattr(settings, "drift_sample_requests", 500),
                                     window_s=getattr(settings, "drift_window_seconds", 3600),
                                     windows=getattr(settings, "drift_windows", 24),
                                     rows_per_request=getattr(settings, "drift_rows_per_request", 10))

    # --- lifecycle -----------------------------------------------------------------------------------

    def set_starting(self, starting: bool) -> None:
        """Mark the server as starting up (readiness is 503 meanwhile)."""
        self._starting = starting

    def load(self, name: str, model_path: Path, version_label: str) -> ServedModel | None:
        """Load the model folder completely, then swap it in; return the model it replaced.

        A model that fails to load (or to predict one row) raises InvalidInput and changes nothing.
        """
        try:
            # LightGBM ensembles are compiled to native code when possible (same answers, checked).
            model = load_model(Path(model_path))
            if getattr(self.settings, "compile_trees", True):
                model = fastpredict.accelerate(model)
            model = with_row_steps(model, Path(model_path))  # the recipe's row-wise steps, when it has some
            _warm_up(model)
        except Exception as exc:
            detail = exc.detail if isinstance(exc, MlpilotError) else f"{type(exc).__name__}: {exc}"
            raise InvalidInput(f"Model version {version_label} for service {name!r} could not be loaded from "
                               f"{model_path}: {detail}") from exc
        manifest = getattr(model, "manifest", {}) or {}
        served = ServedModel(name=name, version=str(version_label), model=model, signature=model.signature,
                             platform=f"mlpilot-{manifest.get('flavor', 'model')}", loaded_at=dt.datetime.now(dt.UTC),
                             source=Path(model_path))
        with self._lock:
            previous = self._models.get(name)
            # Readers take the dict reference once, so replacing it is the atomic swap.
            self._models = {**self._models, name: served}
            self.routes = {k: v for k, v in self.routes.items() if k != name}
            self._unavailable.pop(name, None)
        return previous

    def swap_route(self, name: str, route: Any) -> None:
        """Serve `name` through a ready routing.Route (replaced whole, so in-flight requests are unaffected)."""
        with self._lock:
            self._models = {**self._models, name: route.primary}
            self.routes = {**self.routes, name: route}
            self._unavailable.pop(name, None)

    def restore(self, name: str, previous: ServedModel | None) -> None:
        """Put back the model `load` replaced (or unload when there was none), after a failed commit."""
        with self._lock:
            models = dict(self._models)
            if previous is None:
                models.pop(name, None)
            else:
                models[name] = previous
            self._models = models

    def unload(self, name: str) -> None:
        """Stop serving `name`."""
        with self._lock:
            self._models = {k: v for k, v in self._models.items() if k != name}
            self.routes = {k: v for k, v in self.routes.items() if k != name}
            self._unavailable.pop(name, None)

    def mark_unavailable(self, name: str, reason: str) -> None:
        """Record that deployed service `name` could not be loaded (readiness stays 503)."""
        with self._lock:
            if name not in self._models:
                self._unavailable[name] = reason

    def get(self, name: str) -> ServedModel | None:
        """Return the model served as `name`, if loaded."""
        return self._models.get(name)

    def names(self) -> list[str]:
        """Return the names of the loaded models."""
        return sorted(self._models)

    def readiness(self) -> tuple[bool, str]:
        """Return whether every deployed service is loaded, and why not."""
        if self._starting:
            return False, "The server is starting."
        if self._unavailable:
            names = ", ".join(sorted(self._unavailable))
            return False, f"Deployed service(s) not loaded: {names}."
        return True, "ready"

    def require(self, name: str, version: str | None = None) -> ServedModel:
        """Return the model serving `name` (and `version`, when given), or raise 404/503."""
        route = self.routes.get(name)
        if route is not None:
            return route.pick(version)
        served = self._models.get(name)
        if served is None:
            reason = self._unavailable.get(name)
            if reason is not None:
                raise Unavailable(f"model '{name}' is not ready: {reason}")
            raise NotFound(f"model '{name}' not found")
        if version is not None and version != served.version:
            raise NotFound(f"model '{name}' version '{version}' not found; serving version '{served.version}'")
        return served

    def is_unavailable(self, name: str) -> bool:
        """Whether `name` is deployed but could not be loaded (its requests answer 503 and count as its traffic)."""
        return name in self._unavailable

    # --- inference (the pipeline itself is `pipeline.InferenceCall`) ---------------------------------------

    def infer(self, name: str, body: bytes, *, version: str | None = None, started: float | None = None,
              header_length: str | None = None) -> tuple[dict[str, Any], BinaryOutputs]:
        """Answer an OIP V2 inference request for model `name` on this thread; also say which outputs go binary."""
        return InferenceCall(self, name, body, version=version, started=started, header_length=header_length).run()

    def batcher_for(self, loop: asyncio.AbstractEventLoop) -> MicroBatcher:
        """Return the micro-batcher of event loop `loop` (one per loop; a new loop gets a new one)."""
        batcher = self._batcher
        if batcher is None or batcher.loop is not loop:
            batcher = self._batcher = MicroBatcher(loop)
        return batcher

    def submit_infer(self, batcher: MicroBatcher, name: str, body: bytes, reply: Reply, *,
                     version: str | None = None, started: float | None = None,
                     header_length: str | None = None) -> None:
        """Answer an OIP V2 inference request through `batcher` (on its event loop), calling `reply` once."""
        InferenceCall(self, name, body, version=version, started=started,
                      header_length=header_length).submit(batcher, reply)

    def predict_json(self, name: str, body: bytes, *, started: float | None = None) -> dict[str, Any]:
        """Answer a plain-JSON request {"records": [...]} for model `name`."""
        return InferenceCall(self, name, body, wire="records", started=started).run()[0]

    def record(self, service: str, model_version: str, started: float, status_code: int, rows: int,
               error: str | None, *, backend: str = "", role: str = "primary", request_id: str | None = None,
               prediction: Prediction | None = None, batch: Batch | None = None) -> None:
        """Count the request, remember its prediction by request id, sample it for live drift, hand its telemetry
        to the sink; never waits."""
        seconds = time.perf_counter() - started
        self.metrics.observe(service, model_version, status_code, rows, seconds, backend=backend, role=role)
        if request_id is not None and role != "shadow":  # shadow answers never reached the client
            self.predictions.add(service, request_id, dt.datetime.now(dt.UTC),
                                 _first(prediction) if prediction is not None else None)
            if batch is not None:
                self.traffic.add(service, batch.columns, prediction, batch.rows)
        if self.sink is None:
            return
        latency_ms = seconds * 1000.0
        self.sink.put(InferenceEvent(service=service, model_version=model_version, ts=dt.datetime.now(dt.UTC),
                                     latency_ms=latency_ms, status_code=status_code, rows=rows,
                                     error=error[:500] if error else None, backend=backend, role=role))

    def drift_reference(self, name: str) -> Path | None:
        """Return the training reference (Parquet) of the model answering for service `name`, if it has one."""
        route = self.routes.get(name)
        served = route.primary if route is not None else self._models.get(name)
        source = getattr(served, "source", None)
        if source is None:
            return None
        path = Path(source) / REFERENCE_FILE
        return path if path.is_file() else None

    # --- metadata ------------------------------------------------------------------------------------

    def model_metadata(self, name: str, version: str | None = None) -> dict[str, Any]:
        """Return the OIP model metadata of `name`."""
        served = self.require(name, version)
        route = self.routes.get(name)
        if route is not None and version is None:
            # The service's metadata is its primary's, not whichever backend a canary draw picked.
            served = route.primary
        versions = route.versions() if route is not None else [served.version]
        inputs, outputs = tensor_metadata(served.signature)
        signature = served.signature
        return {"name": served.name, "versions": versions, "platform": served.platform,
                "inputs": inputs, "outputs": outputs,
                "parameters": {"task": signature.task, "target": signature.target,
                               "classes": list(signature.classes) if signature.classes is not None else None}}


def _warm_up(model: LoadedModel) -> None:
    # One row proves the model and the signature agree before the model takes traffic: missing where the
    # signature allows it, else a neutral value (the first category, or zero).
    def value(spec: Any) -> Any:
        if spec.nullable:
            return None
        if spec.dtype == "string":
            return (spec.categories or ("",))[0]
        return 0.0

    specs = model.signature.inputs
    predict_matrix = getattr(model, "predict_matrix", None)
    if predict_matrix is not None and all(c.dtype != "string" for c in specs):
        # Numeric models are warmed up the way requests reach them (no data-frame library needed).
        predict_matrix(np.array([[np.nan if c.nullable else 0.0 for c in specs]], dtype=np.float64))
        return
    import polars as pl

    frame = pl.DataFrame({c.name: pl.Series(c.name, [value(c)], dtype=pl.String if c.dtype == "string" else pl.Float64)
                          for c in model.signature.inputs})
    model.predict(frame)


def _first(prediction: Prediction) -> Any:
    """Return the first row's prediction (label or value): what feedback on a request is compared with."""
    if prediction.labels is not None and len(prediction.labels):
        return prediction.labels[0]
    if prediction.values is not None and len(prediction.values):
        return float(prediction.values[0])
    return None
