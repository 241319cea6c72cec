"""What a fitted AutoML model is at predict time: the preprocessor plus a weighted ensemble of model bags.

Pickled whole into the `automl` model folder; `mlpilot.registry.flavors.automl` loads it. Keep it small and
free of anything training-only (no data, no search state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from mlpilot.training.automl.preprocess import Preprocessor


@dataclass
class Member:
    """One ensemble member: a model trained on each CV fold (averaged), or a single (refit) model."""

    name: str
    family: str
    models: list[Any]
    weight: float
    params: dict[str, Any] = field(default_factory=dict)

    def predict(self, X: np.ndarray, X_linear: np.ndarray | None) -> np.ndarray:
        outputs = [m.predict(X, X_linear) for m in self.models]
        averaged: np.ndarray = np.mean(outputs, axis=0)
        return averaged


def normalise(proba: np.ndarray) -> np.ndarray:
    proba = np.clip(np.nan_to_num(proba, nan=0.0), 1e-12, 1.0)
    normalised: np.ndarray = proba / proba.sum(axis=1, keepdims=True)
    return normalised


@dataclass
class AutoMLPredictor:
    preprocessor: Preprocessor
    task: str
    classes: list[str] | None
    members: list[Member]

    def predict_matrix(self, X: np.ndarray) -> np.ndarray:
        """Probabilities (n, k) for classification, values (n,) for regression."""
        X_linear = None
        if any(getattr(m.models[0], "needs_linear", False) for m in self.members):
            X_linear = self.preprocessor.linear(X)
        total = sum(m.weight for m in self.members)
        out = sum(m.weight / total * m.predict(X, X_linear) for m in self.members)
        out = np.asarray(out, dtype=np.float64)
        return out if self.task == "regression" else normalise(out)

    def predict_frame(self, frame: pl.DataFrame) -> np.ndarray:
        return self.predict_matrix(self.preprocessor.transform(frame))
