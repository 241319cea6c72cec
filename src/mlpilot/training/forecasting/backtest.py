"""Rolling-origin backtests: every candidate forecasts from the same cut-offs, seeing only the past.

Windows step back from the end by the horizon (non-overlapping test windows); a series takes part in a
window when it has at least two points before the cut-off and a complete test window after it. The
scores are averaged over (window, series) pairs; equal-weight averages of the best few candidates are
scored from the same stored forecasts, and the winner's scaled errors give the conformal quantiles.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mlpilot.training.forecasting import metrics
from mlpilot.training.forecasting.statistical import STAT_MODELS, trim

# A candidate forecasts (n, h) from the history y[:, :cutoff]; the cut-off lets covariate-aware ones align.
Candidate = Callable[[np.ndarray, int], np.ndarray]
MAX_WINDOWS = 3
MAX_ENSEMBLE = 3


@dataclass
class Windows:
    """Cut-offs (grid columns) and, per window, which series are scored."""

    cutoffs: list[int]
    masks: list[np.ndarray]
    scales: list[np.ndarray]


@dataclass
class Score:
    name: str
    mase: float
    smape: float
    rmse: float
    seconds: float
    members: list[str] = field(default_factory=list)


@dataclass
class Backtest:
    windows: Windows
    horizon: int
    m: int
    actuals: list[np.ndarray]
    forecasts: dict[str, list[np.ndarray]] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)

    def run(self, name: str, candidate: Candidate, y: np.ndarray, deadline: float | None = None) -> Score:
        """Backtest one candidate; past `deadline` between windows it raises TimeoutError and is not scored."""
        started = time.monotonic()
        forecasts: list[np.ndarray] = []
        for c in self.windows.cutoffs:
            if deadline is not None and forecasts and time.monotonic() > deadline:
                raise TimeoutError(name)
            forecasts.append(candidate(y[:, :c], c))
        self.forecasts[name] = forecasts
        score = self.score(name, self.forecasts[name], time.monotonic() - started)
        self.scores[name] = score
        return score

    def drop(self, name: str) -> None:
        self.forecasts.pop(name, None)
        self.scores.pop(name, None)

    def score(self, name: str, forecasts: list[np.ndarray], seconds: float, members: list[str] | None = None) -> Score:
        parts: dict[str, list[np.ndarray]] = {"mase": [], "smape": [], "rmse": []}
        for mask, scale, actual, forecast in zip(self.windows.masks, self.windows.scales, self.actuals, forecasts,
                                                 strict=True):
            a, f = actual[mask], np.where(np.isfinite(forecast[mask]), forecast[mask], np.inf)
            parts["mase"].append(metrics.mase(a, f, scale[mask]))
            parts["smape"].append(metrics.smape(a, f))
            parts["rmse"].append(metrics.rmse(a, f))
        values = {k: float(np.mean(np.concatenate(v))) for k, v in parts.items()}
        return Score(name, values["mase"], values["smape"], values["rmse"], round(seconds, 3), members or [name])

    def ensemble(self) -> Score:
        """The best single candidate or equal-weight mean of the best 2..MAX_ENSEMBLE, by backtest MASE."""
        ranked = sorted((s for s in self.scores.values() if np.isfinite(s.mase)), key=lambda s: s.mase)
        best = ranked[0]
        for k in range(2, min(MAX_ENSEMBLE, len(ranked)) + 1):
            names = [s.name for s in ranked[:k]]
            mean = [np.mean([self.forecasts[n][w] for n in names], axis=0) for w in range(len(self.actuals))]
            score = self.score("ensemble", mean, 0.0, names)
            if score.mase < best.mase:
                best = score
        return best

    def combined(self, members: list[str]) -> list[np.ndarray]:
        return [np.mean([self.forecasts[n][w] for n in members], axis=0) for w in range(len(self.actuals))]

    def error_quantiles(self, members: list[str], levels: np.ndarray) -> np.ndarray:
        """(h, q) quantiles of scaled errors, pooled over steps under a square-root growth with the step."""
        growth = np.sqrt(np.arange(1, self.horizon + 1))
        pooled = [((a - f) / s[:, None] / growth)[mask].ravel() for a, f, s, mask in zip(
            self.actuals, self.combined(members), self.windows.scales, self.windows.masks, strict=True)]
        errors = np.concatenate(pooled)
        errors = errors[np.isfinite(errors)]
        if errors.size == 0:
            return np.zeros((self.horizon, levels.size))
        # Finite-sample conformal correction: the (1 + 1/n) widened level, clipped to [0, 1].
        adjusted = np.clip(0.5 + (levels - 0.5) * (1 + 1 / errors.size), 0, 1)
        return np.asarray(growth[:, None] * np.quantile(errors, adjusted)[None, :])


def make_windows(y: np.ndarray, horizon: int, m: int, max_windows: int = MAX_WINDOWS) -> Windows:
    """Up to `max_windows` cut-offs, each leaving at least two points of history for some series."""
    width = y.shape[1]
    cutoffs, masks, scales = [], [], []
    for k in range(1, max_windows + 1):
        cutoff = width - k * horizon
        if cutoff < 2:
            break
        history = y[:, :cutoff]
        mask = ((~np.isnan(history)).sum(axis=1) >= 2) & ~np.isnan(y[:, cutoff:cutoff + horizon]).any(axis=1)
        if not mask.any():
            break
        cutoffs.append(cutoff)
        masks.append(mask)
        scales.append(metrics.mase_scale(history, m))
    return Windows(cutoffs, masks, scales)


def new_backtest(y: np.ndarray, horizon: int, m: int, max_windows: int = MAX_WINDOWS) -> Backtest:
    windows = make_windows(y, horizon, m, max_windows)
    actuals = [y[:, c:c + horizon] for c in windows.cutoffs]
    return Backtest(windows=windows, horizon=horizon, m=m, actuals=actuals)


def stat_candidate(name: str, m: int, horizon: int) -> Candidate:
    model = STAT_MODELS[name]
    return lambda history, _cutoff: model(trim(history), m, horizon)
