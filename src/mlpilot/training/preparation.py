"""What every engine adapter does before learning: drop rows without a target, settle the task, describe
the inputs and encode the target as class indices (classification) or floats (regression)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.signature import Signature, infer_signature
from mlpilot.training.engines.base import EngineBase
from mlpilot.training.tasks import resolve_task

MIN_ROWS = 10


@dataclass(frozen=True)
class Prepared:
    frame: pl.DataFrame  # rows with a target value; all columns
    features: pl.DataFrame  # the same rows without the target
    task: str
    classes: list[str] | None
    signature: Signature
    y: np.ndarray  # class indices (int) or values (float)


def target_vector(series: pl.Series, classes: list[str] | None) -> np.ndarray:
    """Encode a target column: class indices in `classes` order, or float values; unknown labels → -1."""
    if classes is None:
        return series.cast(pl.Float64).to_numpy()
    lookup = {label: i for i, label in enumerate(classes)}
    return series.cast(pl.String).replace_strict(lookup, default=-1, return_dtype=pl.Int32).to_numpy()


def prepare(train: pl.DataFrame, *, target: str, task: str, min_rows: int = MIN_ROWS) -> Prepared:
    """Validate a training frame and return its prepared parts (InvalidInput names what is wrong)."""
    if target not in train.columns:
        raise InvalidInput(f"Target column {target!r} is not in the training data; columns are: "
                           f"{', '.join(train.columns)}.")
    frame = train.filter(pl.col(target).is_not_null())
    if frame.schema[target].is_float():
        frame = frame.filter(pl.col(target).is_not_nan())
    if frame.width < 2:
        raise InvalidInput(f"Training needs at least one feature column besides the target {target!r}.")
    if frame.height < min_rows:
        raise InvalidInput(f"Training needs at least {min_rows} rows with a value in {target!r}; "
                           f"found {frame.height}.")
    task, classes = resolve_task(frame[target], target=target, task=task)
    signature = infer_signature(frame, target=target, task=task, classes=classes)
    return Prepared(frame=frame, features=frame.drop(target), task=task, classes=classes, signature=signature,
                    y=target_vector(frame[target], classes))


def library_versions(*distributions: str) -> dict[str, str | None]:
    """Installed versions of the given distributions (None when one is not installed)."""
    found: dict[str, str | None] = {}
    for name in distributions:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def require(module: str, extra: str) -> None:
    """Raise a clear InvalidInput when an optional engine library is not installed."""
    if importlib.util.find_spec(module) is None:
        raise InvalidInput(f"The {module!r} library is not installed, so this engine cannot run; install it with "
                           f"`pip install 'mlpilot[{extra}]'`.")


class PeerEngine(EngineBase):
    """Shared plumbing of the peer-engine adapters: hyper-parameters in, a fitted `model_` out."""

    def __init__(self, **hyperparams: Any) -> None:
        self.hyperparams = dict(hyperparams)

    def get_params(self) -> dict[str, Any]:
        """Return the constructor's hyper-parameters (after fit, `best_params_` holds the chosen ones)."""
        return dict(self.hyperparams)

    def _fitted(self) -> Any:
        if not hasattr(self, "model_"):
            raise InvalidInput("This engine is not fitted yet; call fit() first.")
        return self.model_

    def _no_proba_for_regression(self) -> None:
        if getattr(self, "task_", None) == "regression":
            raise InvalidInput("A regression model has no class probabilities; use predict().")
