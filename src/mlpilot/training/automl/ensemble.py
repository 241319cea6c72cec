"""Scoring of out-of-fold predictions and greedy ensemble selection (Caruana et al., 2004)."""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as skm

LOWER_IS_BETTER = {"log_loss", "rmse", "mae"}


def loss(metric: str, y: np.ndarray, prediction: np.ndarray) -> float:
    """The metric as a loss (lower is better): higher-is-better metrics are negated."""
    if metric == "roc_auc":
        if len(np.unique(y)) < 2:
            return loss("log_loss", y, prediction)
        return -float(skm.roc_auc_score(y, prediction[:, 1]))
    if metric == "log_loss":
        p = np.clip(prediction, 1e-15, 1.0)
        p = p / p.sum(axis=1, keepdims=True)
        return float(-np.mean(np.log(p[np.arange(len(y)), y.astype(int)])))
    if metric == "accuracy":
        return -float(np.mean(prediction.argmax(axis=1) == y))
    if metric in ("f1", "f1_macro"):
        return -float(skm.f1_score(y, prediction.argmax(axis=1), average="binary" if metric == "f1" else "macro",
                                   zero_division=0))
    if metric == "rmse":
        return float(math.sqrt(np.mean((prediction - y) ** 2)))
    if metric == "mae":
        return float(np.mean(np.abs(prediction - y)))
    if metric == "r2":
        return -float(skm.r2_score(y, prediction))
    raise ValueError(f"unknown metric {metric!r}")


def caruana(predictions: list[np.ndarray], y: np.ndarray, metric: str, *, rounds: int = 40) -> list[float]:
    """Greedy forward selection with replacement; returns one weight per candidate (summing to 1)."""
    if not predictions:
        return []
    single = [loss(metric, y, p) for p in predictions]
    best = int(np.argmin(single))
    counts = np.zeros(len(predictions))
    counts[best] = 1
    current = predictions[best].astype(np.float64).copy()
    best_loss = single[best]
    best_counts = counts.copy()
    size = 1
    stale = 0
    for _ in range(rounds):
        trial_losses = [loss(metric, y, (current * size + p) / (size + 1)) for p in predictions]
        choice = int(np.argmin(trial_losses))
        current = (current * size + predictions[choice]) / (size + 1)
        size += 1
        counts[choice] += 1
        if trial_losses[choice] < best_loss - 1e-12:
            best_loss, best_counts, stale = trial_losses[choice], counts.copy(), 0
        else:
            stale += 1
            if stale >= 8:
                break
    return list(best_counts / best_counts.sum())
