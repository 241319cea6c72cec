"""Model flavors: a saved model is a folder with a manifest (mlpilot-model.json) plus flavor files.

`load_model(path)` reads any flavor and returns a LoadedModel with a uniform `predict(frame)`; the data
plane and batch jobs depend only on this module, never on the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.signature import Signature

if TYPE_CHECKING:
    import polars as pl

MANIFEST = "mlpilot-model.json"
FORMAT_VERSION = 1
# A bounded sample of the training features with the model's answers on them (`__prediction__`): the
# reference live drift is measured against. Optional; models imported from elsewhere have none.
REFERENCE_FILE = "reference.parquet"
REFERENCE_ROWS = 5000


@dataclass(frozen=True)
class Prediction:
    """Model output for n rows: class probabilities and labels, or regression values."""

    probabilities: np.ndarray | None  # (n, k) float64, columns in signature.classes order
    labels: list[str] | None
    values: np.ndarray | None  # (n,) float64 for regression

    @property
    def regression_values(self) -> np.ndarray:
        """The predicted values; a classifier's prediction has none, so asking for them is a usage error."""
        if self.values is None:
            raise InvalidInput("This is a classifier's prediction: it has class probabilities, not values.")
        return self.values

    @property
    def class_probabilities(self) -> np.ndarray:
        """The class probabilities; a regressor's prediction has none, so asking for them is a usage error."""
        if self.probabilities is None:
            raise InvalidInput("This is a regressor's prediction: it has values, not class probabilities.")
        return self.probabilities


class LoadedModel(Protocol):
    signature: Signature
    manifest: dict[str, Any]

    def predict(self, frame: pl.DataFrame) -> Prediction: ...


def read_manifest(path: Path) -> dict[str, Any]:
    """Return the manifest of the model folder at `path`."""
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        raise InvalidInput(f"{path} is not an mlpilot model folder: {MANIFEST} is missing.")
    return json.loads(manifest_path.read_text())


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest into the model folder at `path`."""
    (Path(path) / MANIFEST).write_text(json.dumps({"format_version": FORMAT_VERSION, **manifest}, indent=2,
                                                  default=str))


def load_model(path: Path) -> LoadedModel:
    """Load the model folder at `path` with the flavor its manifest names."""
    manifest = read_manifest(path)
    flavor = manifest.get("flavor")
    if flavor == "lightgbm":
        from mlpilot.registry.flavors.lightgbm import LightGBMModel

        return LightGBMModel.load(Path(path), manifest)
    if flavor == "sklearn":
        from mlpilot.registry.flavors.sklearn import SklearnModel

        return SklearnModel.load(Path(path), manifest)
    if flavor == "onnx":
        from mlpilot.registry.flavors.onnx import OnnxModel

        return OnnxModel.load(Path(path), manifest)
    if flavor == "xgboost":
        from mlpilot.registry.flavors.xgboost import XGBoostModel

        return XGBoostModel.load(Path(path), manifest)
    if flavor == "automl":
        from mlpilot.registry.flavors.automl import AutoMLModel

        return AutoMLModel.load(Path(path), manifest)
    if flavor == "forecast":
        raise InvalidInput(f"Model folder {path} holds a forecasting model: use `mlpilot automl forecast`.")
    raise InvalidInput(f"Model folder {path} has flavor {flavor!r}, which this version cannot load.")


def write_reference(path: Path, features: pl.DataFrame, prediction: Prediction, *, seed: int = 0) -> None:
    """Save up to REFERENCE_ROWS rows of `features` with the model's answers into the model folder at `path`."""
    import polars as pl  # here, not at module level: the lean data plane serving numeric models never loads Polars

    frame = features
    answers: list[Any] | np.ndarray | None = prediction.labels if prediction.labels is not None else prediction.values
    if answers is None:
        return
    column = (pl.Series("__prediction__", [str(v) for v in answers], dtype=pl.String) if prediction.labels is not None
              else pl.Series("__prediction__", np.asarray(answers, dtype=np.float64)))
    frame = frame.with_columns(column)
    if frame.height > REFERENCE_ROWS:
        frame = frame.sample(REFERENCE_ROWS, seed=seed)
    frame.write_parquet(Path(path) / REFERENCE_FILE)
