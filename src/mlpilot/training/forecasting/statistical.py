"""Statistical candidates vectorised over series: naive, seasonal naive, drift, SES, damped Holt and Theta.

Each takes Y (n, T) right-aligned with NaN before a series starts, the season length m and the horizon h,
and returns (n, h) point forecasts. Smoothing parameters are chosen per series from a small grid by
in-sample one-step squared error, all series and all grid points in one numpy recursion, so 10,000 series
fit in about a second. Seasonal series are deseasonalised first (classical decomposition, as the M3 Theta
method does) and reseasonalised after.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SES_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0])
HOLT_GRID = np.array([(a, b, p) for a in (0.1, 0.3, 0.5, 0.8) for b in (0.01, 0.05, 0.2) for p in (0.9, 0.98)])


def last_values(y: np.ndarray) -> np.ndarray:
    """The last value of each row (rows are right-aligned, so the last column)."""
    return np.asarray(y[:, -1])


def naive(y: np.ndarray, m: int, h: int) -> np.ndarray:
    return np.repeat(last_values(y)[:, None], h, axis=1)


def seasonal_naive(y: np.ndarray, m: int, h: int) -> np.ndarray:
    """The value one season back; series shorter than a season fall back to naive."""
    if m <= 1 or y.shape[1] < m:
        return naive(y, m, h)
    idx = y.shape[1] - m + (np.arange(h) % m)
    out = y[:, idx]
    short = np.isnan(out).any(axis=1)
    out[short] = naive(y[short], m, h)
    return np.asarray(out)


def drift(y: np.ndarray, m: int, h: int) -> np.ndarray:
    lengths = (~np.isnan(y)).sum(axis=1)
    first = y[np.arange(y.shape[0]), np.minimum(y.shape[1] - lengths, y.shape[1] - 1)]  # a row may be all NaN
    slope = np.where(lengths > 1, (y[:, -1] - first) / np.maximum(lengths - 1, 1), 0.0)
    return np.asarray(y[:, -1:] + slope[:, None] * np.arange(1, h + 1)[None, :])


@dataclass
class Seasonality:
    """Per-series seasonal indices (n, m), multiplicative or additive; identity where not seasonal."""

    index: np.ndarray
    multiplicative: np.ndarray  # (n,) bool

    def remove(self, y: np.ndarray) -> np.ndarray:
        m = self.index.shape[1]
        season = self.index[:, (np.arange(y.shape[1]) - y.shape[1]) % m]
        with np.errstate(divide="ignore", invalid="ignore"):  # additive rows divide by their 0 index, unused
            return np.asarray(np.where(self.multiplicative[:, None], y / season, y - season))

    def restore(self, z: np.ndarray) -> np.ndarray:
        m = self.index.shape[1]
        season = self.index[:, np.arange(z.shape[1]) % m]
        return np.asarray(np.where(self.multiplicative[:, None], z * season, z + season))


def _moving_average(y: np.ndarray, m: int) -> np.ndarray:
    """Centred moving average of order m (2 x m for even m), NaN where the window is incomplete."""
    window = np.ones(m + 1) / m
    window[0] = window[-1] = 0.5 / m
    if m % 2:
        window = np.ones(m) / m
    width = window.size
    out = np.full_like(y, np.nan)
    if y.shape[1] < width:
        return out
    stacked = np.lib.stride_tricks.sliding_window_view(y, width, axis=1)
    out[:, width // 2: width // 2 + stacked.shape[1]] = stacked @ window
    return out


def seasonality(y: np.ndarray, m: int) -> Seasonality:
    """Classical decomposition for rows with two full seasons and a significant lag-m autocorrelation."""
    n, width = y.shape
    identity = Seasonality(np.zeros((n, max(m, 1))), np.zeros(n, dtype=bool))
    if m <= 1 or width < 2 * m:
        return identity
    lengths = (~np.isnan(y)).sum(axis=1)
    positive = np.nanmin(y, axis=1) > 0
    trend = _moving_average(y, m)
    detrended = np.where(positive[:, None], y / trend, y - trend)
    phase = (np.arange(width) - width) % m  # phase 0 = the step after the last point
    index = np.stack([np.nanmean(np.where(phase == k, detrended, np.nan), axis=1) if (phase == k).any()
                      else np.full(n, np.nan) for k in range(m)], axis=1)
    index = np.where(positive[:, None], index / np.nanmean(index, axis=1, keepdims=True),
                     index - np.nanmean(index, axis=1, keepdims=True))
    seasonal = (lengths >= 2 * m) & _significant_acf(y, m, lengths) & np.isfinite(index).all(axis=1)
    neutral = np.where(positive[:, None], 1.0, 0.0)
    index = np.where(seasonal[:, None], np.nan_to_num(index), neutral)
    return Seasonality(index, positive)


def _significant_acf(y: np.ndarray, m: int, lengths: np.ndarray) -> np.ndarray:
    """The 90 % test of the M3 Theta method: |acf(m)| > 1.645 sqrt((1 + 2 sum acf(1..m-1)^2) / n)."""
    centred = y - np.nanmean(y, axis=1, keepdims=True)
    filled = np.nan_to_num(centred)
    denom = (filled ** 2).sum(axis=1)
    denom[denom == 0] = 1.0
    acf = np.stack([(filled[:, k:] * filled[:, :-k]).sum(axis=1) / denom for k in range(1, m + 1)], axis=1)
    limit = 1.645 * np.sqrt((1 + 2 * (acf[:, :-1] ** 2).sum(axis=1)) / np.maximum(lengths, 1))
    return np.asarray(np.abs(acf[:, -1]) > limit)


def _ses_levels(z: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Final levels and one-step SSE for every alpha (rows of the result) and series (columns)."""
    level = np.full((alphas.size, z.shape[0]), np.nan)
    sse = np.zeros_like(level)
    a = alphas[:, None]
    for t in range(z.shape[1]):
        err = z[:, t] - level
        sse += np.where(np.isfinite(err), err * err, 0.0)
        level = np.where(np.isnan(level), z[:, t], level + a * err)
    return level, sse


def ses(y: np.ndarray, m: int, h: int) -> np.ndarray:
    season = seasonality(y, m)
    z = season.remove(y)
    level, sse = _ses_levels(z, SES_ALPHAS)
    best = np.argmin(sse, axis=0)
    final = level[best, np.arange(y.shape[0])]
    return season.restore(np.repeat(final[:, None], h, axis=1))


def holt_damped(y: np.ndarray, m: int, h: int) -> np.ndarray:
    season = seasonality(y, m)
    z = season.remove(y)
    alpha, beta, phi = (HOLT_GRID[:, k:k + 1] for k in range(3))
    level = np.full((HOLT_GRID.shape[0], z.shape[0]), np.nan)
    trend = np.zeros_like(level)
    sse = np.zeros_like(level)
    for t in range(z.shape[1]):
        fitted = level + phi * trend
        err = z[:, t] - fitted
        sse += np.where(np.isfinite(err), err * err, 0.0)
        new_level = np.where(np.isnan(level), z[:, t], fitted + alpha * err)
        trend = np.where(np.isnan(level), 0.0, phi * trend + beta * (new_level - level))
        level = new_level
    best = np.argmin(sse, axis=0)
    cols = np.arange(z.shape[0])
    damp = np.cumsum(phi[best, 0][:, None] ** np.arange(1, h + 1)[None, :], axis=1)
    return season.restore(level[best, cols][:, None] + trend[best, cols][:, None] * damp)


def theta(y: np.ndarray, m: int, h: int) -> np.ndarray:
    """The standard Theta method: SES plus half the linear-trend slope (Hyndman & Billah 2003)."""
    season = seasonality(y, m)
    z = season.remove(y)
    level, sse = _ses_levels(z, SES_ALPHAS)
    best = np.argmin(sse, axis=0)
    cols = np.arange(z.shape[0])
    alpha = SES_ALPHAS[best]
    lengths = (~np.isnan(z)).sum(axis=1)
    x = np.arange(z.shape[1], dtype=float)[None, :] * np.ones_like(z)
    x = np.where(np.isnan(z), np.nan, x)
    xm, zm = np.nanmean(x, axis=1, keepdims=True), np.nanmean(z, axis=1, keepdims=True)
    var = np.nansum((x - xm) ** 2, axis=1)
    slope = np.where(var > 0, np.nansum((x - xm) * (z - zm), axis=1) / np.where(var > 0, var, 1.0), 0.0)
    steps = np.arange(h)[None, :]
    adjust = steps + 1 / alpha[:, None] - ((1 - alpha) ** lengths / alpha)[:, None]
    return season.restore(level[best, cols][:, None] + slope[:, None] / 2 * adjust)


def trim(history: np.ndarray) -> np.ndarray:
    """Drop leading columns that are empty for every series (a window's history of late starters)."""
    filled = np.flatnonzero(~np.isnan(history).all(axis=0))
    return history[:, filled[0]:] if filled.size else history


StatModel = Callable[[np.ndarray, int, int], np.ndarray]


def _quiet(model: StatModel) -> StatModel:
    """A row without history (a late starter in an early backtest window) yields NaN, not a warning per mean."""
    def run(y: np.ndarray, m: int, h: int) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return model(y, m, h)
    return run


STAT_MODELS: dict[str, StatModel] = {name: _quiet(model) for name, model in {
    "naive": naive, "seasonal_naive": seasonal_naive, "drift": drift, "ses": ses,
    "holt_damped": holt_damped, "theta": theta}.items()}
