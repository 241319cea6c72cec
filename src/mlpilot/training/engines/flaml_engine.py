"""FLAML as a peer engine (optional extra `mlpilot[flaml]`), behind the same Engine protocol as the built-in ones.

FLAML searches its learners within the time budget on the registry's encoded feature matrix (strings become
category codes, exactly as the saved model will see them); the fitted `AutoML` object is saved with the
scikit-learn flavor, so serving needs FLAML installed too. Registered always; when FLAML is missing the
engine list says "not installed" and `fit` raises a clear error.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors.lightgbm import encode_features
from mlpilot.registry.flavors.sklearn import save_sklearn_model
from mlpilot.training import metrics as run_metrics
from mlpilot.training.engines.base import ProgressFn
from mlpilot.training.preparation import PeerEngine, library_versions, prepare, require

# FLAML's names for our metrics.
FLAML_METRIC = {"roc_auc": "roc_auc", "log_loss": "log_loss", "accuracy": "accuracy", "f1": "f1",
                "rmse": "rmse", "mae": "mae", "r2": "r2"}


class FLAMLEngine(PeerEngine):
    """Microsoft FLAML AutoML: cost-frugal hyper-parameter search over LightGBM, XGBoost, random forests..."""

    flavor: ClassVar[str] = "sklearn"
    requires: ClassVar[tuple[str, ...]] = ("flaml",)
    extra: ClassVar[str] = "flaml"
    description: ClassVar[str] = "FLAML AutoML (Microsoft): fast, cost-frugal search over tree learners."
    capabilities: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass", "regression", "predict_proba",
                                                        "time_budget", "seed"})

    def fit(self, train: pl.DataFrame, *, target: str, task: str, time_budget_s: float, metric: str | None = None,
            progress: ProgressFn | None = None, seed: int = 0) -> Self:
        """Search FLAML's learners for `time_budget_s` seconds; `metrics_` holds its validation loss."""
        require("flaml", self.extra)
        # flaml has no type information: its AutoML is used as an untyped object.
        automl_class: Any = importlib.import_module("flaml").AutoML

        report = progress or (lambda fraction, message: None)
        data = prepare(train, target=target, task=task)
        matrix = encode_features(data.features, data.signature)
        chosen = metric or run_metrics.PRIMARY_METRIC[data.task]
        if chosen not in FLAML_METRIC:
            raise InvalidInput(f"FLAML cannot optimise {chosen!r}; choose one of {', '.join(FLAML_METRIC)}.")
        report(0.05, "FLAML search")
        automl = automl_class()
        settings = {"task": "regression" if data.task == "regression" else "classification",
                    "metric": FLAML_METRIC[chosen], "time_budget": max(1.0, float(time_budget_s) * 0.9),
                    "n_jobs": os.cpu_count() or 1, "seed": seed, "verbose": 0,
                    "estimator_list": ["lgbm", "rf", "extra_tree"], **self.hyperparams}
        automl.fit(matrix, data.y, **settings)
        self.model_ = automl
        self.signature_ = data.signature
        self.classes_ = data.classes
        self.task_ = data.task
        self.best_params_ = {"estimator": automl.best_estimator, **(automl.best_config or {})}
        self.trials_ = [{"estimator": k, "loss": v} for k, v in (automl.best_loss_per_estimator or {}).items()]
        self.metrics_ = {"validation_loss": float(automl.best_loss), "validation_metric": FLAML_METRIC[chosen],
                         "train_rows": data.frame.height}
        self.library_versions_ = library_versions("flaml", "lightgbm", "scikit-learn")
        report(1.0, "trained")
        return self

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        self._no_proba_for_regression()
        proba = np.asarray(self._fitted().predict_proba(encode_features(frame, self.signature_)), dtype=np.float64)
        if proba.shape[1] != len(self.classes_ or ()):
            raise InvalidInput("FLAML saw only some of the classes in training; it cannot score every class.")
        return proba

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        if self.task_ == "regression":
            return np.asarray(self._fitted().predict(encode_features(frame, self.signature_)), dtype=np.float64)
        classes = np.asarray(self.classes_, dtype=object)
        labels: np.ndarray = classes[self.predict_proba(frame).argmax(axis=1)]
        return labels

    def save(self, path: Path, metrics: dict[str, Any] | None = None) -> None:
        save_sklearn_model(Path(path), estimator=self._fitted(), signature=self.signature_,
                           extra={"engine": "flaml", "params": self.best_params_,
                                  "metrics": metrics if metrics is not None else self.metrics_,
                                  "libraries": self.library_versions_})
