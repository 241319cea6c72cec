"""Forecast accuracy per series: MASE, sMAPE, RMSE and the quantile (pinball) loss.

Every function takes actuals and forecasts of shape (n, h) and returns one value per series; MASE scales
by the in-sample MAE of the seasonal naive forecast on the history the forecast was made from.
"""

from __future__ import annotations

import numpy as np


def _mean_abs_diff(history: np.ndarray, lag: int) -> np.ndarray:
    if history.shape[1] <= lag:
        return np.full(history.shape[0], np.nan)
    diff = np.abs(history[:, lag:] - history[:, :-lag])
    counts = np.isfinite(diff).sum(axis=1)
    total = np.where(np.isfinite(diff), diff, 0.0).sum(axis=1)
    return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def mase_scale(history: np.ndarray, m: int) -> np.ndarray:
    """Mean absolute seasonal difference of each (right-aligned, NaN-padded) history; lag 1 if too short."""
    seasonal = _mean_abs_diff(history, m) if m > 1 else np.full(history.shape[0], np.nan)
    out = np.where(np.isfinite(seasonal) & (seasonal > 0), seasonal, _mean_abs_diff(history, 1))
    # A constant history has no scale: fall back to its level (or 1) so the ratio stays finite.
    level = np.nanmean(np.abs(history), axis=1)
    return np.asarray(np.where(np.isfinite(out) & (out > 0), out, np.where(level > 0, level, 1.0)))


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.asarray(np.mean(np.abs(actual - forecast), axis=1) / scale)


def smape(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Symmetric MAPE in percent (0-200); a step where both are zero counts as exact."""
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2 * np.abs(actual - forecast), denom, out=np.zeros_like(denom), where=denom > 0)
    return np.asarray(100 * ratio.mean(axis=1))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    return np.asarray(np.sqrt(np.mean((actual - forecast) ** 2, axis=1)))


def pinball(actual: np.ndarray, quantiles: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Mean quantile loss over steps and levels; quantiles is (n, h, q)."""
    diff = actual[:, :, None] - quantiles
    loss = np.maximum(levels * diff, (levels - 1) * diff)
    return np.asarray(loss.mean(axis=(1, 2)))
