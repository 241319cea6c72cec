"""The AutoML flavor: the built-in engine's whole predictor (preprocessing + weighted ensemble), pickled.

The folder holds `predictor.joblib` and the manifest (signature, classes, metrics, library versions, the
ensemble). Like the scikit-learn flavor it unpickles code, so only folders this installation wrote are trusted.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors import Prediction, write_manifest
from mlpilot.registry.signature import Signature

PREDICTOR_FILE = "predictor.joblib"
LIBRARIES = ("lightgbm", "xgboost", "catboost", "scikit-learn", "numpy", "polars", "pandas", "joblib")


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass
class AutoMLModel:
    predictor: Any  # mlpilot.training.automl.predictor.AutoMLPredictor
    signature: Signature
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, manifest: dict[str, Any]) -> AutoMLModel:
        file = Path(path) / PREDICTOR_FILE
        if not file.is_file():
            raise InvalidInput(f"Model folder {path} is missing {PREDICTOR_FILE}.")
        return cls(predictor=joblib.load(file), signature=Signature.from_dict(manifest["signature"]),
                   manifest=manifest)

    def predict(self, frame: pl.DataFrame) -> Prediction:
        missing = [c.name for c in self.signature.inputs if c.name not in frame.columns]
        if missing:
            raise InvalidInput(f"Missing input column(s): {', '.join(missing)}.")
        out = self.predictor.predict_frame(frame)
        if self.signature.task == "regression":
            return Prediction(probabilities=None, labels=None, values=np.asarray(out, dtype=np.float64))
        classes = list(self.signature.classes or ())
        probabilities = np.asarray(out, dtype=np.float64)
        return Prediction(probabilities=probabilities, labels=[classes[i] for i in probabilities.argmax(axis=1)],
                          values=None)


def save_automl_model(path: Path, *, predictor: Any, signature: Signature, metrics: dict[str, Any] | None = None,
                      extra: dict[str, Any] | None = None) -> None:
    """Write an AutoML model folder at `path` (created if needed)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    joblib.dump(predictor, path / PREDICTOR_FILE, compress=1)
    write_manifest(path, {
        "flavor": "automl",
        "signature": signature.to_dict(),
        "classes": list(signature.classes) if signature.classes is not None else None,
        "metrics": metrics or {},
        "libraries": {name: v for name in LIBRARIES if (v := _version(name)) is not None},
        **(extra or {}),
    })
