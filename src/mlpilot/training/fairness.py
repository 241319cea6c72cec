"""Fairness of predictions across the groups of a sensitive column: pure functions over NumPy arrays.

Definitions follow fairlearn: selection rate = share of rows predicted positive; demographic-parity
difference = max − min selection rate over groups; equalized-odds difference = the larger of the
max − min true-positive-rate and false-positive-rate gaps. Multiclass models are measured one-vs-rest for
the chosen positive class (default: the last class); regression reports per-group errors and the gap of
mean predictions. No database, no web layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlpilot.training import metrics as run_metrics

MISSING_GROUP = "(missing)"
MAX_GROUPS = 50


def _rate(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def _spread(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None and math.isfinite(v)]
    return float(max(known) - min(known)) if len(known) >= 2 else (0.0 if known else None)


def group_labels(groups: Any) -> np.ndarray:
    """Sensitive values as strings, missing ones as '(missing)'."""
    return np.asarray([MISSING_GROUP if g is None or (isinstance(g, float) and math.isnan(g)) else str(g)
                       for g in groups], dtype=object)


def classification_fairness(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, *,
                            positive: int = 1, classes: list[str] | None = None) -> dict[str, Any]:
    """Per-group metrics and the demographic-parity / equalized-odds differences.

    `y_true`, `y_pred`: class indices; `positive`: the index treated as the favourable/positive outcome.
    """
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), group_labels(groups)
    names = sorted(set(groups.tolist()))
    if len(names) > MAX_GROUPS:
        raise ValueError(f"the sensitive column has {len(names)} groups; fairness is measured over at most "
                         f"{MAX_GROUPS} (pick a categorical column such as gender or region)")
    rows = []
    for name in names:
        mask = groups == name
        truth, pred = y_true[mask] == positive, y_pred[mask] == positive
        rows.append({
            "group": name, "count": int(mask.sum()),
            "selection_rate": _rate(pred.sum(), mask.sum()),
            "accuracy": _rate((y_true[mask] == y_pred[mask]).sum(), mask.sum()),
            "true_positive_rate": _rate((pred & truth).sum(), truth.sum()),
            "false_positive_rate": _rate((pred & ~truth).sum(), (~truth).sum()),
            "base_rate": _rate(truth.sum(), mask.sum()),
        })
    tpr_gap = _spread([r["true_positive_rate"] for r in rows])
    fpr_gap = _spread([r["false_positive_rate"] for r in rows])
    selection = [r["selection_rate"] for r in rows]
    known = [s for s in selection if s]
    return {
        "kind": "classification", "positive_class": classes[positive] if classes else positive, "groups": rows,
        "demographic_parity_difference": _spread(selection),
        "demographic_parity_ratio": float(min(known) / max(known)) if len(known) == len(selection) and known else None,
        "equalized_odds_difference": (max(v for v in (tpr_gap, fpr_gap) if v is not None)
                                      if tpr_gap is not None or fpr_gap is not None else None),
        "true_positive_rate_difference": tpr_gap, "false_positive_rate_difference": fpr_gap,
        "accuracy_difference": _spread([r["accuracy"] for r in rows]),
    }


def regression_fairness(y_true: np.ndarray, predicted: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    """Per-group RMSE/MAE/mean prediction and the largest gaps between groups."""
    y_true, predicted, groups = np.asarray(y_true, float), np.asarray(predicted, float), group_labels(groups)
    names = sorted(set(groups.tolist()))
    if len(names) > MAX_GROUPS:
        raise ValueError(f"the sensitive column has {len(names)} groups; fairness is measured over at most "
                         f"{MAX_GROUPS} (pick a categorical column such as gender or region)")
    rows = []
    for name in names:
        mask = groups == name
        errors = run_metrics.regression_metrics(y_true[mask], predicted[mask])
        rows.append({"group": name, "count": int(mask.sum()), "rmse": errors["rmse"], "mae": errors["mae"],
                     "mean_prediction": float(predicted[mask].mean()), "mean_actual": float(y_true[mask].mean())})
    return {"kind": "regression", "groups": rows,
            "mean_prediction_difference": _spread([r["mean_prediction"] for r in rows]),
            "rmse_difference": _spread([r["rmse"] for r in rows]),
            "mae_difference": _spread([r["mae"] for r in rows])}
