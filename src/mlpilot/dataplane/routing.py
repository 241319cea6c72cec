"""Traffic routing of the data plane: which backend answers a service's request (single, canary, shadow).

The control plane describes a service with a plain `RouteSpec` (contract, policy, primary and candidate
backends); `install_route` loads and warms every backend first, then swaps the whole `Route` in with one
dict-reference assignment, so requests in flight finish on the old route and none fail during a swap.
The hot path only calls `Route.pick(version)` (through `DataPlane.require`). Backends are model folders
or external engines over HTTP (`external.ExternalModel`: a request template and a response mapping).
Shadow traffic is mirrored on a bounded background worker; its answers are discarded and compared.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from mlpilot.core.errors import InvalidInput, MlpilotError, NotFound
from mlpilot.dataplane.recipe import with_row_steps
from mlpilot.registry.external import ExternalModel, check_external_config
from mlpilot.registry.flavors import Prediction, load_model
from mlpilot.registry.signature import Signature

if TYPE_CHECKING:
    from mlpilot.dataplane.server import DataPlane

log = logging.getLogger(__name__)

POLICIES = ("single", "canary", "shadow")
# Mirrored requests waiting for the shadow backend; beyond this they are dropped (and counted), never queued.
SHADOW_QUEUE = 64


# --- what the control plane sends ------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendSpec:
    """One backend as the control plane describes it: a model folder, or an external engine's config."""

    label: str  # stable telemetry label: "model:churn v3" or "external:<name>"
    version: str  # what responses report as model_version
    kind: str  # "model" | "external"
    model_path: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteSpec:
    """A service's routing: its contract, policy, primary backend and optional candidate."""

    contract: Signature
    policy: str
    primary: BackendSpec
    candidate: BackendSpec | None = None
    weight: float = 0.0


# --- shadow comparison --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShadowComparison:
    """A shadow backend's answers compared with the primary's so far."""

    primary: str
    candidate: str
    requests: int
    rows: int
    agreement_rate: float | None
    mean_abs_diff: float | None
    errors: int
    dropped: int
    last_error: str | None


@dataclass(frozen=True)
class LiveBackend:
    """One backend the data plane routes a service to now; weight is the canary's share of traffic."""

    backend: str
    version: str
    role: str
    weight: float | None = None


class ShadowStats:
    """Running comparison of the shadow backend's answers with the primary's (kept in memory)."""

    def __init__(self, primary: str, candidate: str) -> None:
        self.primary = primary
        self.candidate = candidate
        self._lock = threading.Lock()
        self.requests = 0
        self.rows = 0
        self.agreeing_rows = 0
        self.abs_diff_sum = 0.0
        self.errors = 0
        self.dropped = 0
        self.last_error: str | None = None

    def add(self, primary: Prediction, shadow: Prediction) -> None:
        """Compare one request's two predictions."""
        if primary.probabilities is not None and shadow.probabilities is not None:
            agree = sum(a == b for a, b in zip(primary.labels or [], shadow.labels or [], strict=False))
            diff = float(np.abs(primary.probabilities - shadow.probabilities).max(axis=1).sum())
            rows = primary.probabilities.shape[0]
        else:
            assert primary.values is not None and shadow.values is not None
            delta = np.abs(primary.values - shadow.values)
            diff = float(delta.sum())
            # Regression answers "agree" when within 1% of the primary's magnitude (or 1e-6 absolute).
            agree = int((delta <= np.maximum(1e-6, 0.01 * np.abs(primary.values))).sum())
            rows = primary.values.shape[0]
        with self._lock:
            self.requests += 1
            self.rows += rows
            self.agreeing_rows += agree
            self.abs_diff_sum += diff

    def fail(self, detail: str) -> None:
        with self._lock:
            self.errors += 1
            self.last_error = detail[:300]

    def drop(self) -> None:
        with self._lock:
            self.dropped += 1

    def snapshot(self) -> ShadowComparison:
        """Return the comparison so far: agreement rate and mean absolute difference per row."""
        with self._lock:
            return ShadowComparison(
                primary=self.primary, candidate=self.candidate, requests=self.requests, rows=self.rows,
                agreement_rate=self.agreeing_rows / self.rows if self.rows else None,
                mean_abs_diff=self.abs_diff_sum / self.rows if self.rows else None,
                errors=self.errors, dropped=self.dropped, last_error=self.last_error)


class ShadowingModel:
    """The primary model, answering as usual, with each input mirrored to the shadow backend afterwards."""

    def __init__(self, primary: Any, shadow: Any, stats: ShadowStats, mirror: ShadowMirror) -> None:
        self.primary = primary
        self.shadow = shadow
        self.stats = stats
        self.mirror = mirror
        self.signature = primary.signature
        self.manifest = getattr(primary, "manifest", {})
        if hasattr(primary, "predict_matrix"):
            self.predict_matrix = self._predict_matrix

    def _predict_matrix(self, matrix: np.ndarray) -> Prediction:
        prediction = self.primary.predict_matrix(matrix)
        self.mirror.submit(self, prediction, matrix=matrix)
        return prediction

    def predict(self, frame: Any) -> Prediction:
        prediction = self.primary.predict(frame)
        self.mirror.submit(self, prediction, frame=frame)
        return prediction


class ShadowMirror:
    """One background worker per data plane for shadow calls; a full queue drops the mirror, not the request."""

    def __init__(self, on_result: Any = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlpilot-shadow")
        self._slots = threading.BoundedSemaphore(SHADOW_QUEUE)
        # on_result(served_shadow, seconds, status, rows, error) records telemetry (role "shadow").
        self.on_result = on_result

    def submit(self, owner: ShadowingModel, primary: Prediction, *, matrix: np.ndarray | None = None,
               frame: Any = None) -> None:
        if not self._slots.acquire(blocking=False):
            owner.stats.drop()
            return
        try:
            self._pool.submit(self._run, owner, primary, matrix, frame)
        except RuntimeError:  # shut down
            self._slots.release()

    def _run(self, owner: ShadowingModel, primary: Prediction, matrix: np.ndarray | None, frame: Any) -> None:
        started = time.perf_counter()
        served = owner.shadow
        rows = matrix.shape[0] if matrix is not None else frame.height
        try:
            if matrix is not None and hasattr(served.model, "predict_matrix"):
                answer = served.model.predict_matrix(matrix)
            else:
                answer = served.model.predict(frame if frame is not None
                                              else _matrix_frame(cast(np.ndarray, matrix), owner.signature))
            owner.stats.add(primary, answer)
            self._record(served, started, 200, rows, None)
        except Exception as exc:  # the shadow's failure never reaches the client; it is counted instead
            detail = exc.detail if isinstance(exc, MlpilotError) else f"{type(exc).__name__}: {exc}"
            owner.stats.fail(detail)
            self._record(served, started, getattr(exc, "status", 500), 0, detail)
        finally:
            self._slots.release()

    def _record(self, served: Any, started: float, status: int, rows: int, error: str | None) -> None:
        if self.on_result is not None:
            try:
                self.on_result(served, started, status, rows, error)
            except Exception:
                log.exception("recording a shadow call failed")

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until queued shadow calls finish (tests and shutdown); return whether they did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            taken = 0
            while self._slots.acquire(blocking=False):
                taken += 1
            for _ in range(taken):
                self._slots.release()
            if taken == SHADOW_QUEUE:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _matrix_frame(matrix: np.ndarray, signature: Signature) -> Any:
    import polars as pl

    return pl.DataFrame({c.name: matrix[:, i] for i, c in enumerate(signature.inputs)})


# --- the route the hot path reads --------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """The live routing of one service: immutable, replaced whole on every change."""

    policy: str
    primary: Any  # ServedModel (role primary; under shadow its model mirrors to the candidate)
    candidate: Any | None  # ServedModel (role canary or shadow)
    weight: float
    stats: ShadowStats | None = None
    spec: RouteSpec | None = None

    @property
    def blocking(self) -> bool:
        """Whether an answering backend may wait on the network (then requests leave the event loop)."""
        answering = [self.primary] + ([self.candidate] if self.policy == "canary" and self.candidate else [])
        return any(isinstance(s.model, ExternalModel) for s in answering)

    def pick(self, version: str | None = None) -> Any:
        """Return the ServedModel that answers this request."""
        if version is not None:
            for served in (self.primary, self.candidate):
                if served is not None and served.version == version and (served is self.primary
                                                                        or self.policy == "canary"):
                    return served
            raise NotFound(f"model '{self.primary.name}' version '{version}' not found; "
                           f"serving version '{self.primary.version}'")
        if self.policy == "canary" and self.candidate is not None and random.random() < self.weight:
            return self.candidate
        return self.primary

    def versions(self) -> list[str]:
        """Return the versions clients can reach (the primary's first; a canary's candidate too)."""
        versions = [self.primary.version]
        if self.policy == "canary" and self.candidate is not None and self.candidate.version not in versions:
            versions.append(self.candidate.version)
        return versions

    def backends(self) -> list[LiveBackend]:
        """Describe the live backends (for status pages)."""
        rows = [LiveBackend(backend=self.primary.backend, version=self.primary.version, role="primary")]
        if self.candidate is not None:
            rows.append(LiveBackend(backend=self.candidate.backend, version=self.candidate.version,
                                    role=self.candidate.role, weight=self.weight if self.policy == "canary" else None))
        return rows


def _mirror_of(plane: DataPlane) -> ShadowMirror:
    mirror = getattr(plane, "shadow_mirror", None)
    if mirror is None:
        def on_result(served: Any, started: float, status: int, rows: int, error: str | None) -> None:
            plane.record(served.name, served.version, started, status, rows, error, backend=served.backend,
                         role="shadow")

        mirror = ShadowMirror(on_result)
        plane.shadow_mirror = mirror
    return mirror


PRELOADED = 8  # loaded backends kept ready for the next install (most recent first)


def preload_backend(plane: DataPlane, spec: BackendSpec, contract: Signature) -> None:
    """Load a backend ahead of the change that will route to it (outside any database transaction)."""
    live = {s.backend for r in plane.routes.values() for s in (r.primary, r.candidate) if s is not None}
    if spec.kind != "model" or spec.label in live:
        return
    cache = plane.preloaded
    if spec.label not in cache:
        cache = {spec.label: _load_backend(spec, contract, {}), **cache}
    plane.preloaded = dict(list(cache.items())[:PRELOADED])


def _load_backend(spec: BackendSpec, contract: Signature, reuse: dict[str, Any]) -> Any:
    """Return the backend's model, loaded and proven on one row, adapted to the contract."""
    if spec.label in reuse:
        return reuse[spec.label]
    if spec.kind == "external":
        return ExternalModel(spec.config, contract)
    if spec.model_path is None:
        raise InvalidInput(f"Backend {spec.label} has no model folder.")
    try:
        from mlpilot.dataplane import fastpredict
        from mlpilot.dataplane.server import _warm_up

        # The same preparation as DataPlane.load: LightGBM ensembles compiled to native code when possible.
        model = with_row_steps(fastpredict.accelerate(load_model(Path(spec.model_path))), Path(spec.model_path))
        _warm_up(model)
    except Exception as exc:
        detail = exc.detail if isinstance(exc, MlpilotError) else f"{type(exc).__name__}: {exc}"
        raise InvalidInput(f"Backend {spec.label} could not be loaded from {spec.model_path}: {detail}") from exc
    problems = contract_problems(contract, model.signature)
    if problems:
        raise InvalidInput(f"Backend {spec.label} does not fit the service contract: {'; '.join(problems)}.")
    if model.signature.input_names == contract.input_names:
        return model
    return ContractAdapter(model, contract)


def _served(name: str, spec: BackendSpec, model: Any, contract: Signature, role: str) -> Any:
    from mlpilot.dataplane.server import ServedModel

    manifest = getattr(model, "manifest", {}) or {}
    import datetime as dt

    return ServedModel(name=name, version=spec.version, model=model, signature=contract,
                       platform=f"mlpilot-{manifest.get('flavor', 'model')}", loaded_at=dt.datetime.now(dt.UTC),
                       backend=spec.label, role=role,
                       source=Path(spec.model_path) if spec.kind == "model" and spec.model_path else None)


def _unwrap(model: Any) -> Any:
    return model.primary if isinstance(model, ShadowingModel) else model


def install_route(plane: DataPlane, name: str, spec: RouteSpec) -> Route | None:
    """Load every backend of `spec`, then swap the service's route in at once; return the route it replaced.

    Backends already live under the same label are reused (a promote loads nothing). A backend that fails
    to load raises InvalidInput and changes nothing.
    """
    if spec.policy not in POLICIES:
        raise InvalidInput(f"Traffic policy {spec.policy!r} is unknown; expected one of: {', '.join(POLICIES)}.")
    current: Route | None = plane.routes.get(name)
    reuse = dict(plane.preloaded)
    if current is not None:
        for served in (current.primary, current.candidate):
            if served is not None:
                reuse[served.backend] = _unwrap(served.model)
    primary_model = _load_backend(spec.primary, spec.contract, reuse)
    candidate = None
    stats = None
    if spec.candidate is not None and spec.policy != "single":
        role = "canary" if spec.policy == "canary" else "shadow"
        candidate = _served(name, spec.candidate, _load_backend(spec.candidate, spec.contract, reuse),
                            spec.contract, role)
        if spec.policy == "shadow":
            kept = current.stats if current is not None and current.policy == "shadow" and \
                current.candidate is not None and current.candidate.backend == spec.candidate.label and \
                current.primary.backend == spec.primary.label else None
            stats = kept if kept is not None else ShadowStats(spec.primary.label, spec.candidate.label)
            primary_model = ShadowingModel(primary_model, candidate, stats, _mirror_of(plane))
    primary = _served(name, spec.primary, primary_model, spec.contract, "primary")
    weight = min(max(float(spec.weight), 0.0), 1.0) if spec.policy == "canary" else 0.0
    route = Route(policy=spec.policy if candidate is not None else "single", primary=primary, candidate=candidate,
                  weight=weight, stats=stats, spec=spec)
    plane.swap_route(name, route)
    return current


def close_unused(previous: Route | None, current: Route | None) -> None:
    """Close the HTTP clients of external backends the new route no longer uses (after a committed change)."""
    if previous is None:
        return
    kept = {id(_unwrap(s.model)) for s in (current.primary, current.candidate) if s is not None} if current else set()
    for served in (previous.primary, previous.candidate):
        model = _unwrap(served.model) if served is not None else None
        if isinstance(model, ExternalModel) and id(model) not in kept:
            model.close()


def restore_route(plane: DataPlane, name: str, previous: Route | None) -> None:
    """Put back the route `install_route` replaced (or unload the service when there was none)."""
    if previous is None:
        plane.unload(name)
    else:
        plane.swap_route(name, previous)


def shadow_stats(plane: DataPlane, name: str) -> ShadowComparison | None:
    """Return the live shadow comparison of service `name`, if it mirrors traffic."""
    route = getattr(plane, "routes", {}).get(name)
    return route.stats.snapshot() if route is not None and route.stats is not None else None


def live_backends(plane: DataPlane, name: str) -> list[LiveBackend]:
    """Return the backends the data plane currently routes `name` to."""
    route = getattr(plane, "routes", {}).get(name)
    return route.backends() if route is not None else []


# --- contracts ------------------------------------------------------------------------------------------------


def contract_problems(contract: Signature, signature: Signature) -> list[str]:
    """Say why a backend with `signature` cannot serve clients of `contract` (empty when it can).

    Clients send the contract's inputs and read its outputs, so the backend may use a subset of the
    inputs (by name, in any order) with the same types; it must accept missing values wherever the
    contract allows them, and answer the same task with the same classes in the same order.
    """
    problems = []
    if signature.task != contract.task:
        problems.append(f"it is a {signature.task} model and the contract is {contract.task}")
    elif contract.task != "regression" and tuple(signature.classes or ()) != tuple(contract.classes or ()):
        problems.append(f"its classes {list(signature.classes or ())} differ from the contract's "
                        f"{list(contract.classes or ())}")
    for spec in signature.inputs:
        wanted = contract.column(spec.name)
        if wanted is None:
            problems.append(f"it needs input {spec.name!r}, which the contract does not have")
            continue
        numeric = {"float64", "int64", "bool"}
        if spec.dtype != wanted.dtype and not (spec.dtype == "float64" and wanted.dtype in numeric):
            problems.append(f"input {spec.name!r} is {spec.dtype} in the backend and {wanted.dtype} in the contract")
        if wanted.nullable and not spec.nullable:
            problems.append(f"input {spec.name!r} may be missing under the contract but the backend refuses "
                            "missing values")
    return problems


class ContractAdapter:
    """A model whose inputs are a subset (or another order) of the contract's: it is fed by column name."""

    def __init__(self, model: Any, contract: Signature) -> None:
        self.model = model
        self.signature = contract
        self.manifest = getattr(model, "manifest", {})
        self._names = model.signature.input_names

    def predict(self, frame: Any) -> Prediction:
        return self.model.predict(frame.select(self._names))


__all__ = ["BackendSpec", "ContractAdapter", "ExternalModel", "LiveBackend", "Route", "RouteSpec", "ShadowComparison",
           "ShadowStats",
           "check_external_config", "contract_problems", "install_route", "live_backends", "preload_backend",
           "restore_route", "shadow_stats"]
