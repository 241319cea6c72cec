"""The LightGBM flavor: a native booster file plus the preprocessing the signature implies.

Categorical (string) columns are encoded with the category list stored in the signature, so an unseen
category becomes missing instead of an error — LightGBM routes missing values down a learnt branch.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import lightgbm as lgb
import numpy as np

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors import Prediction, write_manifest
from mlpilot.registry.signature import Signature

if TYPE_CHECKING:
    import polars as pl

BOOSTER_FILE = "model.txt"


def encode_features(frame: pl.DataFrame, signature: Signature) -> np.ndarray:
    """Turn a frame with the signature's columns into the float matrix the booster expects."""
    import polars as pl  # imported here: a data plane serving numeric models never needs it

    missing = [c.name for c in signature.inputs if c.name not in frame.columns]
    if missing:
        raise InvalidInput(f"Missing input column(s): {', '.join(missing)}.")
    columns = []
    for spec in signature.inputs:
        series = frame[spec.name]
        if spec.dtype == "string":
            lookup = {value: float(i) for i, value in enumerate(spec.categories or ())}
            codes = series.cast(pl.String).replace_strict(lookup, default=None, return_dtype=pl.Float64)
            columns.append(codes.to_numpy().astype(np.float64, copy=False))
        elif spec.dtype == "bool":
            columns.append(series.cast(pl.Float64).to_numpy())
        else:
            columns.append(series.cast(pl.Float64, strict=False).to_numpy())
    if not columns:
        return np.empty((frame.height, 0))
    matrix = np.column_stack(columns).astype(np.float64, copy=False)
    return np.where(np.isnan(matrix), np.nan, matrix)


@dataclass
class LightGBMModel:
    booster: lgb.Booster
    signature: Signature
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, manifest: dict[str, Any]) -> LightGBMModel:
        booster = lgb.Booster(model_file=str(Path(path) / BOOSTER_FILE))
        return cls(booster=booster, signature=Signature.from_dict(manifest["signature"]), manifest=manifest)

    def predict_matrix(self, matrix: np.ndarray) -> Prediction:
        # Booster.predict is typed as returning lists or sparse matrices too; dense input gives an ndarray.
        raw = cast(np.ndarray, self.booster.predict(matrix, num_threads=1))
        return self.prediction_from_raw(raw, matrix.shape[0])

    def prediction_from_raw(self, raw: np.ndarray, rows: int) -> Prediction:
        """Turn what Booster.predict returns for `rows` rows into a Prediction (also used by compiled trees)."""
        task = self.signature.task
        if task == "regression":
            return Prediction(probabilities=None, labels=None, values=np.asarray(raw, dtype=np.float64))
        classes = list(self.signature.classes or ())
        if task == "binary":
            probabilities = np.empty((rows, 2))
            probabilities[:, 1] = raw
            np.subtract(1.0, probabilities[:, 1], out=probabilities[:, 0])
            negative, positive = classes[0], classes[1]
            # argmax of (1 - p, p): the first class wins ties
            labels = [positive if high else negative for high in
                      (probabilities[:, 1] > probabilities[:, 0]).tolist()]
            return Prediction(probabilities=probabilities, labels=labels, values=None)
        probabilities = np.asarray(raw, dtype=np.float64).reshape(rows, len(classes))
        labels = [classes[i] for i in probabilities.argmax(axis=1).tolist()]
        return Prediction(probabilities=probabilities, labels=labels, values=None)

    def predict(self, frame: pl.DataFrame) -> Prediction:
        return self.predict_matrix(encode_features(frame, self.signature))


def save_lightgbm_model(path: Path, *, booster: lgb.Booster, signature: Signature,
                        metrics: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> None:
    """Write a LightGBM model folder at `path` (created if needed)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(path / BOOSTER_FILE))
    write_manifest(path, {
        "flavor": "lightgbm",
        "signature": signature.to_dict(),
        "metrics": metrics or {},
        "libraries": {name: importlib.metadata.version(name) for name in ("lightgbm", "numpy", "polars")},
        **(extra or {}),
    })
