"""Evaluation of a fitted model on a held-out test split: pure functions over NumPy arrays and Polars frames.

Classification: ROC AUC, log loss, accuracy, F1 (training.metrics), confusion matrix and a reliability
(calibration) curve. Regression: RMSE, MAE, R² and residual-plot data. Explanations: permutation importance
through any predict function, and a summary of exact TreeSHAP contributions (LightGBM `pred_contrib`).
No database, no web layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from mlpilot.training import metrics as run_metrics

if TYPE_CHECKING:
    from mlpilot.training.engines.base import Engine

CALIBRATION_BINS = 10
RESIDUAL_POINTS = 500
CURVE_POINTS = 101  # points kept of a ROC or precision–recall curve: enough to draw, small to store


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> list[list[int]]:
    """Counts [true class][predicted class] for class indices 0..n_classes-1."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix.tolist()


def calibration_curve(y_true: np.ndarray, proba: np.ndarray, *, bins: int = CALIBRATION_BINS) -> list[dict[str, Any]]:
    """Reliability curve of the predicted class probabilities, uniform bins over [0, 1].

    Binary: the positive class's probability against the observed positive rate (sklearn's
    `calibration_curve(strategy="uniform")`). Multiclass: the top-class confidence against its accuracy.
    Each point: bin bounds, mean predicted probability, observed frequency and row count (empty bins omitted).
    """
    y_true = np.asarray(y_true)
    if proba.shape[1] == 2:
        score, hit = proba[:, 1], (y_true == 1).astype(float)
    else:
        score, hit = proba.max(axis=1), (proba.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges[1:-1], score), 0, bins - 1)
    points = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            points.append({"lower": float(edges[b]), "upper": float(edges[b + 1]),
                           "predicted": float(score[mask].mean()), "observed": float(hit[mask].mean()),
                           "count": int(mask.sum())})
    return points


def expected_calibration_error(points: list[dict[str, Any]]) -> float | None:
    """Row-weighted mean |observed − predicted| over the calibration bins."""
    total = sum(p["count"] for p in points)
    if not total:
        return None
    return float(sum(p["count"] * abs(p["observed"] - p["predicted"]) for p in points) / total)


def residuals(y_true: np.ndarray, predicted: np.ndarray, *, limit: int = RESIDUAL_POINTS,
              seed: int = 0) -> dict[str, Any]:
    """Residual-plot data (predicted vs. residual = actual − predicted), sampled to `limit` points, plus a summary."""
    y_true, predicted = np.asarray(y_true, dtype=float), np.asarray(predicted, dtype=float)
    residual = y_true - predicted
    keep = np.arange(len(residual))
    if len(keep) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(keep, size=limit, replace=False))
    return {
        "points": [{"predicted": float(predicted[i]), "residual": float(residual[i])} for i in keep],
        "mean": float(residual.mean()) if len(residual) else None,
        "std": float(residual.std()) if len(residual) else None,
        "max_abs": float(np.abs(residual).max()) if len(residual) else None,
    }


def _thin(n: int, limit: int = CURVE_POINTS) -> np.ndarray:
    """Indices of at most `limit` points spread over 0..n-1, first and last included."""
    return np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(np.int64))


@dataclass(frozen=True)
class RocCurve:
    """Points of a ROC curve (false and true positive rates) and the area under the full curve."""

    fpr: list[float]
    tpr: list[float]
    auc: float


@dataclass(frozen=True)
class PrCurve:
    """Points of a precision–recall curve, its average precision and the positive rate (the chance line)."""

    recall: list[float]
    precision: list[float]
    average_precision: float
    base_rate: float


def roc_pr_curves(y_true: np.ndarray, scores: np.ndarray) -> tuple[RocCurve, PrCurve] | None:
    """ROC and precision–recall curves of the positive class (index 1) for binary labels, thinned for storage.

    None when the test split holds a single class (no curve exists).
    """
    import sklearn.metrics as skm

    y = np.asarray(y_true, dtype=np.int64)
    if len(np.unique(y)) != 2:
        return None
    fpr, tpr, _ = skm.roc_curve(y, scores)
    precision, recall, _ = skm.precision_recall_curve(y, scores)
    roc_at, pr_at = _thin(len(fpr)), _thin(len(recall))
    return (RocCurve(fpr=fpr[roc_at].round(5).tolist(), tpr=tpr[roc_at].round(5).tolist(),
                     auc=float(skm.auc(fpr, tpr))),
            PrCurve(recall=recall[pr_at].round(5).tolist(), precision=precision[pr_at].round(5).tolist(),
                    average_precision=float(skm.average_precision_score(y, scores)), base_rate=float(y.mean())))


def classification_report(y_true: np.ndarray, proba: np.ndarray, *, task: str, classes: list[str]) -> dict[str, Any]:
    """Metrics, confusion matrix, calibration curve and (binary) ROC and precision–recall curves of `proba`."""
    metrics = run_metrics.classification_metrics(y_true, proba, task=task)
    curve = calibration_curve(y_true, proba)
    metrics["ece"] = expected_calibration_error(curve)
    report = {"metrics": metrics, "classes": list(classes),
              "confusion_matrix": confusion_matrix(y_true, proba.argmax(axis=1), len(classes)),
              "calibration": curve}
    if task == "binary" and proba.shape[1] == 2:
        curves = roc_pr_curves(y_true, proba[:, 1])
        if curves is not None:
            report["roc_curve"], report["pr_curve"] = asdict(curves[0]), asdict(curves[1])
    return report


def regression_report(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Metrics and residual-plot data of regression predictions."""
    return {"metrics": run_metrics.regression_metrics(y_true, predicted), "residuals": residuals(y_true, predicted)}


def score(task: str, y_true: np.ndarray, output: np.ndarray) -> float:
    """One number, higher is better, used for permutation importance: −log loss or −RMSE."""
    if task == "regression":
        return -float(np.sqrt(np.mean((np.asarray(y_true, dtype=float) - output) ** 2)))
    clipped = np.clip(output[np.arange(len(y_true)), np.asarray(y_true, dtype=np.int64)], 1e-15, 1.0)
    return float(np.mean(np.log(clipped)))


def permutation_importance(predict: Callable[[pl.DataFrame], np.ndarray], frame: pl.DataFrame, y_true: np.ndarray,
                           *, task: str, repeats: int = 3, seed: int = 0) -> dict[str, float]:
    """Mean drop in score (−log loss / −RMSE) when each column of `frame` is shuffled, per column, best first.

    `predict` returns probabilities (classification, class-index order of `y_true`) or values (regression).
    Negative drops (shuffling helped) are kept: they flag a column the model does not rely on.
    """
    rng = np.random.default_rng(seed)
    baseline = score(task, y_true, predict(frame))
    result: dict[str, float] = {}
    for column in frame.columns:
        drops = []
        for _ in range(repeats):
            shuffled = frame.with_columns(frame[column].gather(rng.permutation(frame.height)).alias(column))
            drops.append(baseline - score(task, y_true, predict(shuffled)))
        result[column] = float(np.mean(drops))
    return dict(sorted(result.items(), key=lambda item: -item[1]))


def shap_summary(contributions: np.ndarray, feature_names: list[str], *, n_classes: int = 1) -> dict[str, float]:
    """Mean |SHAP value| per feature from LightGBM `pred_contrib` output (last column per class = bias), best first.

    Multiclass output (n, (features + 1) * classes) is averaged over classes.
    """
    width = len(feature_names) + 1
    contributions = np.asarray(contributions, dtype=float)
    blocks = [contributions[:, k * width:(k + 1) * width - 1] for k in range(max(1, n_classes))]
    magnitude = np.mean([np.abs(block).mean(axis=0) for block in blocks], axis=0)
    return dict(sorted(zip(feature_names, (float(v) for v in magnitude), strict=True), key=lambda item: -item[1]))


def top(mapping: dict[str, float], n: int = 20) -> dict[str, float]:
    """The first `n` entries of an importance mapping (already sorted best first)."""
    return dict(list(mapping.items())[:n])


def split_indices(n: int, *, labels: np.ndarray | None, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices: a seeded split, stratified by `labels` when every class can be."""
    from sklearn.model_selection import train_test_split

    index = np.arange(n)
    if labels is not None:
        try:
            train, test = train_test_split(index, test_size=fraction, random_state=seed, stratify=labels)
            return np.sort(train), np.sort(test)
        except ValueError:
            pass  # a class too rare to stratify: a plain random split
    train, test = train_test_split(index, test_size=fraction, random_state=seed)
    return np.sort(train), np.sort(test)


def evaluate_model(engine: Engine, test: pl.DataFrame, *, target: str, task: str, classes: list[str] | None,
                   sensitive_column: str | None = None, positive_class: str | None = None,
                   importance_rows: int = 1000, repeats: int = 3,
                   seed: int = 0) -> dict[str, Any]:
    """Everything the run page and model card show, computed on the held-out `test` rows.

    Returns {"metrics", "test_rows", "confusion_matrix"/"calibration" or "residuals", "permutation_importance",
    "shap" (or None), "fairness" (or None), "warnings"}.
    """
    from mlpilot.training import fairness
    from mlpilot.training.preparation import target_vector

    warnings: list[str] = []
    test = test.filter(pl.col(target).is_not_null())
    y = target_vector(test[target], classes)
    if classes is not None and (y < 0).any():
        unseen = sorted(set(test[target].cast(pl.String).to_list()) - set(classes))
        warnings.append(f"{int((y < 0).sum())} test rows have classes never seen in training ({', '.join(unseen)}); "
                        "they are left out of the evaluation.")
        test, y = test.filter(pl.Series(y >= 0)), y[y >= 0]
    if test.height == 0:
        raise ValueError("the test split has no rows with a known target value")
    features = test.drop(target)
    result: dict[str, Any] = {"test_rows": test.height}
    if task == "regression":
        predicted = np.asarray(engine.predict(features), dtype=np.float64)
        result.update(regression_report(y, predicted))

        def predict(frame: pl.DataFrame) -> np.ndarray:
            return np.asarray(engine.predict(frame), dtype=np.float64)
    else:
        proba = np.asarray(engine.predict_proba(features), dtype=np.float64)
        result.update(classification_report(y, proba, task=task, classes=list(classes or ())))
        predicted = proba.argmax(axis=1)

        def predict(frame: pl.DataFrame) -> np.ndarray:
            return np.asarray(engine.predict_proba(frame), dtype=np.float64)

    sample = np.arange(test.height)
    if test.height > importance_rows:
        sample = np.sort(np.random.default_rng(seed).choice(sample, size=importance_rows, replace=False))
    result["permutation_importance"] = top(permutation_importance(
        predict, features[sample], y[sample], task=task, repeats=repeats, seed=seed), 30)
    shap = engine.exact_attribution(features[sample])
    result["shap"] = top(shap, 30) if shap is not None else None

    result["fairness"] = None
    if sensitive_column:
        if sensitive_column not in test.columns:
            warnings.append(f"The sensitive column {sensitive_column!r} is not in the data; fairness was skipped.")
        else:
            groups = np.asarray(test[sensitive_column].to_list(), dtype=object)
            try:
                if task == "regression":
                    result["fairness"] = fairness.regression_fairness(y, predicted, groups)
                else:
                    labels = [str(c) for c in classes or ()]
                    positive = labels.index(positive_class) if positive_class in labels else len(labels) - 1
                    if positive_class is not None and positive_class not in labels:
                        warnings.append(f"The favourable class {positive_class!r} is not among the model's classes "
                                        f"({', '.join(labels)}); fairness measured for {labels[positive]!r}.")
                    result["fairness"] = fairness.classification_fairness(y, predicted, groups, positive=positive,
                                                                          classes=list(classes or ()))
                result["fairness"]["column"] = sensitive_column
            except ValueError as exc:
                warnings.append(f"Fairness over {sensitive_column!r} was skipped: {exc}.")
    result["warnings"] = warnings
    return result
