"""The scikit-learn flavor: a joblib-pickled estimator with predict / predict_proba.

Pickles execute code when loaded, so this flavor is only for files an admin trusts (imports say so).
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np

from mlpilot.registry.flavors import Prediction, write_manifest
from mlpilot.registry.flavors.lightgbm import encode_features
from mlpilot.registry.signature import Signature

if TYPE_CHECKING:
    import polars as pl

ESTIMATOR_FILE = "model.joblib"


@dataclass
class SklearnModel:
    estimator: Any
    signature: Signature
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, manifest: dict[str, Any]) -> SklearnModel:
        estimator = joblib.load(Path(path) / ESTIMATOR_FILE)
        return cls(estimator=estimator, signature=Signature.from_dict(manifest["signature"]), manifest=manifest)

    def predict_matrix(self, matrix: np.ndarray) -> Prediction:
        if self.signature.task == "regression":
            return Prediction(probabilities=None, labels=None,
                              values=np.asarray(self.estimator.predict(matrix), dtype=np.float64))
        probabilities = np.asarray(self.estimator.predict_proba(matrix), dtype=np.float64)
        classes = list(self.signature.classes or ())
        return Prediction(probabilities=probabilities, labels=[classes[i] for i in probabilities.argmax(axis=1)],
                          values=None)

    def predict(self, frame: pl.DataFrame) -> Prediction:
        return self.predict_matrix(encode_features(frame, self.signature))


def save_sklearn_model(path: Path, *, estimator: Any, signature: Signature,
                       extra: dict[str, Any] | None = None) -> None:
    """Write a scikit-learn model folder at `path`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, path / ESTIMATOR_FILE)
    write_manifest(path, {
        "flavor": "sklearn",
        "signature": signature.to_dict(),
        "metrics": {},
        "libraries": {name: importlib.metadata.version(name) for name in ("scikit-learn", "numpy")},
        **(extra or {}),
    })
