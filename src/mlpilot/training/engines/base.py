"""The Engine protocol every training adapter implements (the scikit-learn contract, plus a time budget).

`__init__(**hyperparams)` only stores parameters; `fit` learns and returns self; learned state lives in
attributes ending in `_`; `save` writes a model folder that `mlpilot.registry.flavors.load_model` reads;
`explain` gives global importance per input column; `capabilities` declares what the engine supports
(see `engine_capabilities`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import polars as pl

from mlpilot.registry.signature import Signature

# progress(fraction 0..1, message) — called from inside fit; must be cheap.
ProgressFn = Callable[[float, str], None]


@runtime_checkable
class Engine(Protocol):
    """A trainable model family. After `fit`: `signature_`, `classes_` (None for regression),
    `metrics_` (holdout metrics, a dict) and `flavor_` (the saved model's flavor name) are set."""

    flavor: ClassVar[str]
    # e.g. {"binary", "multiclass", "regression", "predict_proba", "explain", "time_budget", "seed", "progress"}
    capabilities: ClassVar[frozenset[str]]
    signature_: Signature
    classes_: list[str] | None
    metrics_: dict[str, Any]

    def __init__(self, **hyperparams: Any) -> None: ...

    def fit(self, train: pl.DataFrame, *, target: str, task: str, time_budget_s: float,
            metric: str | None = None, progress: ProgressFn | None = None, seed: int = 0) -> Self: ...

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Class labels (strings) for classification, values for regression."""
        ...

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Probabilities, one column per class in `classes_` order (classification only)."""
        ...

    def get_params(self) -> dict[str, Any]: ...

    def save(self, path: Path, metrics: dict[str, Any] | None = None) -> None: ...

    def explain(self, frame: pl.DataFrame, *, max_rows: int = 1000, seed: int = 0) -> dict[str, float]:
        """Global importance per input column, normalised to sum 1, largest first."""
        ...


TASK_CAPABILITIES = frozenset({"binary", "multiclass", "regression"})


def engine_capabilities(engine: Any) -> frozenset[str]:
    """What an engine (class or instance) declares it can do; engines that declare nothing get the three tasks."""
    declared = getattr(engine, "capabilities", None)
    return frozenset(declared) if declared is not None else TASK_CAPABILITIES
