"""The one inference pipeline: decode → predict → encode → record, whichever HTTP front door a request came in by.

`mlpilot serve`'s own server (`fasthttp`), the `InferenceFastPath` middleware and the FastAPI routes (`asgi`) and
the control plane's plain-JSON predict route (`serving.routes`) each hand the body to an `InferenceCall` and send
what it answers. Telemetry (latency, status, rows, backend), the prediction log for feedback and the live-drift
sample are therefore recorded once, here, with the same labels for every front door; so are the error format and
the body-size refusal. A call is answered either at once (`run`, on a worker thread) or through the event loop's
micro-batcher (`submit`), where a numeric model's rows join those of concurrent requests.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson

from mlpilot.core.errors import MlpilotError, NotFound
from mlpilot.dataplane import binary
from mlpilot.dataplane.batching import MicroBatcher
from mlpilot.dataplane.protocol import Batch, decode_oip, decode_records, encode_oip, encode_records, parse_json
from mlpilot.registry.flavors import Prediction

if TYPE_CHECKING:
    from mlpilot.dataplane.server import DataPlane, ServedModel

log = logging.getLogger(__name__)
# Requests up to this size (a few dozen rows) are decoded and predicted on the event loop: well under a
# millisecond of work, cheaper than handing it to a worker thread. Larger ones go to the thread pool.
INLINE_BODY_BYTES = 16 * 1024
INTERNAL_ERROR = "Something went wrong on the server; the error has been logged."
# Which outputs of an OIP answer travel as binary: a set of names, all (True) or none (False / empty).
BinaryOutputs = frozenset[str] | bool
# reply(status, content, binary outputs): how a submitted call is answered, exactly once.
Reply = Callable[[int, dict[str, Any], BinaryOutputs], None]
# "oip": the Open Inference Protocol V2 (tensors, optional binary data); "records": {"records": [...]} in and
# {"predictions": [...]} out, the control plane's plain-JSON route.
Wire = Literal["oip", "records"]
NO_BINARY: frozenset[str] = frozenset()


class InferenceCall:
    """One inference request on its way through the pipeline; errors become `{"error": ...}` with their status."""

    __slots__ = ("backend", "batch", "body", "header_length", "known", "label", "name", "payload", "plane", "role",
                 "served", "started", "version", "wire")

    def __init__(self, plane: DataPlane, name: str, body: bytes, *, wire: Wire = "oip", version: str | None = None,
                 started: float | None = None, header_length: str | None = None) -> None:
        self.plane, self.name, self.body, self.wire, self.version = plane, name, body, wire, version
        self.started = time.perf_counter() if started is None else started
        self.header_length = header_length
        self.known = False  # an unknown name is nobody's telemetry
        self.label, self.backend, self.role = "", "", "primary"
        self.served: ServedModel | None = None
        self.batch: Batch | None = None
        self.payload: Any = None

    # --- the stages -----------------------------------------------------------------------------------------

    def decode(self) -> tuple[ServedModel, Batch]:
        """Pick the backend that answers (route, version) and decode the body against its signature."""
        plane = self.plane
        current = plane.get(self.name)
        self.known = current is not None or plane.is_unavailable(self.name)
        if not self.known:
            raise NotFound(f"model '{self.name}' not found")
        self.label = current.version if current is not None else ""
        served = self.served = plane.require(self.name, self.version)
        self.label, self.backend, self.role = served.version, served.backend, served.role
        max_rows = plane.settings.max_rows_per_request
        if self.wire == "oip":
            self.payload = binary.parse_request(self.body, self.header_length)
            batch = decode_oip(self.payload, served.signature, max_rows=max_rows)
        else:
            batch = decode_records(parse_json(self.body), served.signature, max_rows=max_rows)
        self.batch = batch
        return served, batch

    def encode(self, served: ServedModel, batch: Batch, prediction: Prediction) -> tuple[dict[str, Any],
                                                                                          BinaryOutputs]:
        """Build the answer and record the request's success (telemetry, prediction log, drift sample)."""
        request_id = batch.request_id if batch.request_id is not None else uuid.uuid4().hex
        which: BinaryOutputs = NO_BINARY
        if self.wire == "oip":
            content: dict[str, Any] = {
                "model_name": served.name, "model_version": served.version, "id": request_id,
                "outputs": encode_oip(prediction, served.signature, rows=batch.rows, outputs=batch.outputs)}
            which = binary.binary_outputs(self.payload)
        else:
            content = {"service": served.name, "model_version": served.version, "request_id": request_id,
                       "predictions": encode_records(prediction, served.signature)}
        self.plane.record(served.name, served.version, self.started, 200, batch.rows, None, backend=served.backend,
                          role=served.role, request_id=request_id, prediction=prediction, batch=batch)
        return content, which

    def failed(self, exc: BaseException) -> tuple[int, dict[str, Any]]:
        """Record a failed request (unless its model is unknown) and return the status and body to answer."""
        if isinstance(exc, MlpilotError):
            status, detail, shown = exc.status, exc.detail, exc.detail
        else:
            log.error("inference failed for model %r", self.name, exc_info=exc)
            status, detail, shown = 500, f"{type(exc).__name__}: {exc}", INTERNAL_ERROR
        if self.known:
            self.plane.record(self.name, self.label, self.started, status, 0, detail, backend=self.backend,
                              role=self.role)
        return status, {"error": shown}

    # --- answering ------------------------------------------------------------------------------------------

    def run(self) -> tuple[dict[str, Any], BinaryOutputs]:
        """Answer now, on this thread; a failure is recorded, then raised to the caller."""
        try:
            served, batch = self.decode()
            return self.encode(served, batch, predict(served, batch))
        except BaseException as exc:
            self.failed(exc)
            raise

    def submit(self, batcher: MicroBatcher, reply: Reply) -> None:
        """Answer through `batcher` on its event loop, calling `reply` once: a numeric model's rows join the
        micro-batch of concurrent requests for the same model (one predict call), others are predicted at once."""
        try:
            served, batch = self.decode()
            predict_matrix = getattr(served.model, "predict_matrix", None)
            if not served.numeric_only or predict_matrix is None:
                reply(200, *self.encode(served, batch, predict(served, batch)))
                return
            matrix = batch.matrix if batch.matrix is not None else stack(served, batch)
        except BaseException as exc:
            reply(*self.failed(exc), NO_BINARY)
            return

        def done(prediction: Prediction | None, error: BaseException | None) -> None:
            try:
                if error is not None or prediction is None:
                    raise error or RuntimeError("no prediction")
                reply(200, *self.encode(served, batch, prediction))
            except BaseException as exc:
                reply(*self.failed(exc), NO_BINARY)

        batcher.submit(served.model, matrix, done)


# --- what every front door does around a call ---------------------------------------------------------------

def runs_inline(plane: DataPlane, name: str, body: bytes) -> bool:
    """Whether a request is answered on the event loop: small, and not for a backend that waits on the network
    (external engines); anything else goes to a worker thread so the loop never blocks."""
    route = plane.routes.get(name)
    return len(body) <= INLINE_BODY_BYTES and (route is None or not route.blocking)


def refuse_too_large(plane: DataPlane, name: str, started: float, limit: int) -> str:
    """Record a request refused for its body size (413) against the service and return the message to answer."""
    detail = f"The request body is larger than {limit} bytes; send fewer rows per request."
    served = plane.get(name)
    if served is not None:
        plane.record(name, served.version, started, 413, 0, detail)
    return detail


def encode_reply(content: dict[str, Any], which: BinaryOutputs) -> tuple[bytes, str, int | None]:
    """The answer's bytes, media type and (for binary outputs) the JSON header's length."""
    if which:
        body, json_size = binary.encode_response(content, which)
        return body, "application/octet-stream", json_size
    return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY), "application/json", None


def stack(served: ServedModel, batch: Batch) -> np.ndarray:
    """The batch's columns as one float matrix in the signature's order (what numeric models predict on)."""
    specs = served.signature.inputs
    if not specs:
        return np.empty((batch.rows, 0))
    return np.ascontiguousarray(np.column_stack([batch.columns[c.name] for c in specs]), dtype=np.float64)


def predict(served: ServedModel, batch: Batch) -> Prediction:
    """Predict one request's rows: on the float matrix when the model takes one, else on a data frame."""
    specs = served.signature.inputs
    predict_matrix = getattr(served.model, "predict_matrix", None)
    if served.numeric_only and predict_matrix is not None:
        prediction: Prediction = predict_matrix(batch.matrix if batch.matrix is not None else stack(served, batch))
        return prediction
    import polars as pl  # only models with text columns need a frame

    frame = pl.DataFrame([
        pl.Series(c.name, batch.columns[c.name], dtype=pl.String if c.dtype == "string" else pl.Float64)
        for c in specs
    ])
    return served.model.predict(frame)
