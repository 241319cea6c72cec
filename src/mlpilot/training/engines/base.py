"""The Engine protocol every training adapter implements (the scikit-learn contract, plus a time budget).

`__init__(**hyperparams)` only stores parameters; `fit` learns and returns self; learned state lives in
attributes ending in `_`; `save` writes a model folder that `mlpilot.registry.flavors.load_model` reads;
`explain` gives global importance per input column; `capabilities` declares what the engine supports
(see `engine_capabilities`). Everything the training service reads from an engine is declared on `Engine`;
`EngineBase` gives the optional parts their defaults, so an adapter only writes what it has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
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
    requires: ClassVar[tuple[str, ...]]  # modules that must import for the engine to run
    extra: ClassVar[str]  # the pip extra that installs them ("" when none)
    description: ClassVar[str]  # one line for the engine list ("" → the class docstring's first line)
    registrable: ClassVar[bool]  # False when the fitted model cannot be saved and served (a vendor's API)
    signature_: Signature
    classes_: list[str] | None
    metrics_: dict[str, Any]
    # What the fit chose and tried, shown on the run page; warnings are written to the run's log.
    best_params_: Mapping[str, Any]
    trials_: Sequence[Mapping[str, Any]]
    leaderboard_: Sequence[Mapping[str, Any]] | None
    warnings_: Sequence[str]
    library_versions_: Mapping[str, str | None]  # versions the fitted model depends on, beyond `requires`

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

    def exact_attribution(self, frame: pl.DataFrame) -> dict[str, float] | None:
        """Mean |exact SHAP value| per input column on these rows (TreeSHAP for tree models), None when the
        model family has no exact method (the run page then shows permutation importance only)."""
        ...


TASK_CAPABILITIES = frozenset({"binary", "multiclass", "regression"})


class EngineBase:
    """Defaults for the optional parts of `Engine`; the built-in adapters inherit it and so may plug-ins.

    The learned defaults are class attributes and immutable, so `vars(engine)` before `fit` stays free of
    learned state (the conformance kit checks that) and no two engines share a mutable default."""

    capabilities: ClassVar[frozenset[str]] = TASK_CAPABILITIES
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str] = ""
    description: ClassVar[str] = ""
    registrable: ClassVar[bool] = True
    best_params_: Mapping[str, Any] = MappingProxyType({})
    trials_: Sequence[Mapping[str, Any]] = ()
    leaderboard_: Sequence[Mapping[str, Any]] | None = None
    warnings_: Sequence[str] = ()
    library_versions_: Mapping[str, str | None] = MappingProxyType({})

    def exact_attribution(self, frame: pl.DataFrame) -> dict[str, float] | None:
        return None


# Declared by `Engine`; an engine class that lacks one fails the conformance kit with this list.
ENGINE_ATTRIBUTES = ("flavor", "capabilities", "requires", "extra", "description", "registrable", "best_params_",
                     "trials_", "leaderboard_", "warnings_", "library_versions_", "exact_attribution")


def engine_capabilities(engine: Any) -> frozenset[str]:
    """What an engine (class or instance) declares it can do; engines that declare nothing get the three tasks."""
    declared = getattr(engine, "capabilities", None)
    return frozenset(declared) if declared is not None else TASK_CAPABILITIES
