"""The XGBoost flavor: a native booster file (JSON) plus the signature's preprocessing.

Binary (`binary:logistic`, `binary:logitraw`), multi-class (`multi:softprob`, `multi:softmax`) and
regression objectives are read; string columns are fed as the LightGBM flavor's category codes.
"""

from __future__ import annotations

import importlib.metadata
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors import Prediction, write_manifest
from mlpilot.registry.flavors.lightgbm import encode_features
from mlpilot.registry.signature import ColumnSpec, Signature

BOOSTER_FILE = "model.json"


def objective_of(booster: Any) -> tuple[str, int]:
    """Return the booster's objective name and class count (1 for binary and regression)."""
    config = json.loads(booster.save_config())
    learner = config.get("learner", {})
    objective = learner.get("objective", {}).get("name", "reg:squarederror")
    classes = int(float(learner.get("learner_model_param", {}).get("num_class", "0") or 0))
    return objective, max(classes, 1)


@dataclass
class XGBoostModel:
    booster: Any
    signature: Signature
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, manifest: dict[str, Any]) -> XGBoostModel:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(Path(path) / BOOSTER_FILE))
        booster.set_param({"nthread": 1})
        return cls(booster=booster, signature=Signature.from_dict(manifest["signature"]), manifest=manifest)

    def predict_matrix(self, matrix: np.ndarray) -> Prediction:
        objective, _ = objective_of(self.booster)
        raw = np.asarray(self.booster.inplace_predict(np.ascontiguousarray(matrix, dtype=np.float64)),
                         dtype=np.float64)
        if self.signature.task == "regression":
            return Prediction(probabilities=None, labels=None, values=raw.reshape(matrix.shape[0]))
        classes = list(self.signature.classes or ())
        if objective == "binary:logitraw":
            raw = 1.0 / (1.0 + np.exp(-raw))
        if objective == "multi:softmax":
            probabilities = np.eye(len(classes))[raw.astype(int).reshape(-1)]
        elif raw.ndim == 1 or (raw.ndim == 2 and raw.shape[1] == 1):
            positive = raw.reshape(-1)
            probabilities = np.column_stack([1.0 - positive, positive])
        else:
            probabilities = raw.reshape(matrix.shape[0], len(classes))
        return Prediction(probabilities=probabilities, labels=[classes[i] for i in probabilities.argmax(axis=1)],
                          values=None)

    def predict(self, frame: pl.DataFrame) -> Prediction:
        return self.predict_matrix(encode_features(frame, self.signature))


def save_xgboost_model(path: Path, *, booster: Any, signature: Signature,
                       extra: dict[str, Any] | None = None) -> None:
    """Write an XGBoost model folder at `path`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(path / BOOSTER_FILE))
    import xgboost as xgb

    write_manifest(path, {
        "flavor": "xgboost", "signature": signature.to_dict(), "metrics": {},
        # The module's own version: it is distributed as "xgboost" or "xgboost-cpu".
        "libraries": {"xgboost": xgb.__version__, "numpy": importlib.metadata.version("numpy")},
        **(extra or {}),
    })


def load_booster(source: Path) -> Any:
    """Read a native XGBoost model file (JSON or UBJSON), or raise InvalidInput."""
    import xgboost as xgb

    booster = xgb.Booster()
    try:
        booster.load_model(str(source))
    except xgb.core.XGBoostError as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise InvalidInput(f"{source.name} is not an XGBoost model file (.json or .ubj): {first}") from None
    return booster


def booster_signature(booster: Any, target: str) -> Signature:
    """Describe the booster's inputs (its feature names, else f0…) and task from its objective."""
    names = booster.feature_names or [f"f{i}" for i in range(booster.num_features())]
    inputs = tuple(ColumnSpec(name=str(n), dtype="float64", nullable=True) for n in names)
    objective, count = objective_of(booster)
    if objective.startswith("binary:"):
        return Signature(inputs=inputs, task="binary", target=target, classes=("0", "1"))
    if objective.startswith("multi:"):
        return Signature(inputs=inputs, task="multiclass", target=target,
                         classes=tuple(str(i) for i in range(count)))
    if objective.startswith(("reg:", "count:", "survival:")) or objective.startswith("rank:"):
        return Signature(inputs=inputs, task="regression", target=target)
    raise InvalidInput(f"XGBoost objective {objective!r} is not supported; binary:, multi: and reg: ones are.")
