"""Holdout metrics per task and which direction is better: pure functions over NumPy arrays."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn import metrics as skm

PRIMARY_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse", "forecast": "mase"}
HIGHER_IS_BETTER = {"roc_auc": True, "accuracy": True, "f1": True, "f1_macro": True, "r2": True,
                    "log_loss": False, "rmse": False, "mae": False, "ece": False, "mase": False, "smape": False,
                    "pinball": False}


def higher_is_better(metric: str) -> bool:
    """Return whether larger values of `metric` are better."""
    return HIGHER_IS_BETTER.get(metric, True)


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, *, task: str) -> dict[str, Any]:
    """Metrics for class indices `y_true` against probabilities `proba` (one column per class)."""
    k = proba.shape[1]
    predicted = proba.argmax(axis=1)
    result: dict[str, Any] = {
        "log_loss": _finite(skm.log_loss(y_true, np.clip(proba, 1e-15, 1.0), labels=list(range(k)))),
        "accuracy": _finite(skm.accuracy_score(y_true, predicted)),
    }
    if task == "binary":
        result["roc_auc"] = _finite(skm.roc_auc_score(y_true, proba[:, 1])) if len(np.unique(y_true)) == 2 else None
        result["f1"] = _finite(skm.f1_score(y_true, predicted, zero_division=0))
    else:
        result["f1_macro"] = _finite(skm.f1_score(y_true, predicted, average="macro", zero_division=0))
    return result


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """RMSE, MAE and R² of `predicted` against `y_true`."""
    return {
        "rmse": _finite(math.sqrt(skm.mean_squared_error(y_true, predicted))),
        "mae": _finite(skm.mean_absolute_error(y_true, predicted)),
        "r2": _finite(skm.r2_score(y_true, predicted)) if len(y_true) > 1 else None,
    }


def primary_metric(task: str, metrics: dict[str, Any]) -> tuple[str, float | None]:
    """Return the metric a run is ranked by (falling back to log loss when AUC is undefined)."""
    name = PRIMARY_METRIC[task]
    if metrics.get(name) is None and task == "binary":
        name = "log_loss"
    return name, metrics.get(name)
