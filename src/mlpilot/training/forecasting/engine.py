"""The forecasting AutoML: backtest every candidate within the time budget, keep the best or an ensemble.

Statistical candidates go first (cheapest first, so a short budget still yields a model); the global
gradient-boosting model follows when the budget left covers its estimated cost for every window plus the
final refit. The chosen members are refitted on the whole history: the statistical ones at forecast time
(they take milliseconds), the boosting model now, so `forecast` only needs the future covariates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.training.forecasting.backtest import Backtest, Score, new_backtest, stat_candidate
from mlpilot.training.forecasting.data import Panel, build_panel
from mlpilot.training.forecasting.gbm import GBMForecaster, calendar, lags_for
from mlpilot.training.forecasting.metrics import mase_scale
from mlpilot.training.forecasting.statistical import STAT_MODELS, trim

STAT_ORDER = ("naive", "seasonal_naive", "drift", "ses", "theta", "holt_damped")
DEFAULT_QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
GBM_SECONDS_PER_ROW = 4e-5  # measured fit cost per training sample on 2 cores (200 trees), with margin
MAX_HORIZON = 10_000

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ForecastSpec:
    target: str
    time_column: str
    horizon: int
    id_column: str | None = None
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    seed: int = 0
    candidates: tuple[str, ...] = (*STAT_ORDER, "lightgbm")


@dataclass
class ForecastModel:
    """Everything `forecast` needs: the history panel, the chosen members and the error quantiles."""

    spec: ForecastSpec
    panel: Panel
    m: int
    members: list[str]
    error_quantiles: np.ndarray  # (h, q) scaled by each series' MASE scale
    scale: np.ndarray  # (n,)
    scores: list[Score]
    chosen: Score
    id_dtype: str = "String"
    gbm: GBMForecaster | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        return {"mase": self.chosen.mase, "smape": self.chosen.smape, "rmse": self.chosen.rmse}


def _padded(panel: Panel, extra: int, future: dict[str, np.ndarray] | None = None, horizon: int = 0) -> tuple[
        np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """History left-padded to `extra` more columns of NaN, covariates (plus future) and calendar over it all."""
    n, width = panel.y.shape
    y = np.concatenate([np.full((n, extra), np.nan), panel.y], axis=1)
    covs = {}
    for name, values in panel.covariates.items():
        parts = [np.full((n, extra), np.nan), values] + ([future[name]] if future else [])
        covs[name] = np.concatenate(parts, axis=1)
    offsets = np.arange(-(width + extra) + 1, 1 + horizon)
    cal = calendar(panel.axis.frequency, panel.times(offsets))
    return y, covs, cal


def _gbm_candidate(panel: Panel, m: int, horizon: int, seed: int) -> Callable[[np.ndarray, int], np.ndarray]:
    pad = max(lags_for(m)) + 1
    full_y, covs, cal = _padded(panel, pad, future=None)

    def run(history: np.ndarray, cutoff: int) -> np.ndarray:
        end = pad + cutoff
        y = full_y[:, :end]
        # The test window's calendar and covariates are known in advance, so the window may read them.
        window_cal = {k: v[:, : end + horizon] for k, v in cal.items()}
        window_cov = {k: v[:, : end + horizon] for k, v in covs.items()}
        model = GBMForecaster.fit(y, m, {k: v[:, :end] for k, v in window_cov.items()},
                                  {k: v[:, :end] for k, v in window_cal.items()}, seed=seed)
        return model.forecast(y, horizon, window_cov, window_cal)
    return run


def fit_forecast(frame: pl.DataFrame, spec: ForecastSpec, time_budget_s: float,
                 progress: Progress | None = None) -> ForecastModel:
    """Validate, backtest the candidates within the budget, pick the best (or an ensemble) and refit."""
    started = time.monotonic()
    report = progress or (lambda _f, _m: None)
    if not 1 <= spec.horizon <= MAX_HORIZON:
        raise InvalidInput(f"The horizon must be between 1 and {MAX_HORIZON} steps, not {spec.horizon}.")
    if any(not 0 < q < 1 for q in spec.quantiles):
        raise InvalidInput("Quantile levels must lie strictly between 0 and 1.")
    report(0.02, "checking the series")
    panel = build_panel(frame, target=spec.target, time_column=spec.time_column, id_column=spec.id_column,
                        horizon=spec.horizon)
    m = panel.axis.frequency.season_length()
    backtest = new_backtest(panel.y, spec.horizon, m)
    if not backtest.windows.cutoffs:
        raise InvalidInput(f"No series is long enough for a backtest of horizon {spec.horizon}: each needs at least"
                           f" {spec.horizon + 2} points.")
    deadline = started + time_budget_s
    stats = [c for c in STAT_ORDER if c in spec.candidates]
    for i, name in enumerate(stats):
        if i >= 2 and time.monotonic() > deadline:
            break
        report(0.05 + 0.5 * i / len(stats), f"backtesting {name}")
        backtest.run(name, stat_candidate(name, m, spec.horizon), panel.y)
    gbm: GBMForecaster | None = None
    if "lightgbm" in spec.candidates and _gbm_fits_budget(panel, backtest, m, deadline):
        report(0.6, "backtesting lightgbm")
        try:
            score = backtest.run("lightgbm", _gbm_candidate(panel, m, spec.horizon, spec.seed), panel.y, deadline)
            # The final refit costs about one window; without time for it the candidate cannot be kept.
            if time.monotonic() + score.seconds / len(backtest.windows.cutoffs) > deadline:
                backtest.drop("lightgbm")
        except (ValueError, TimeoutError):
            pass  # too few complete windows or out of time: the statistical candidates stand alone
    report(0.85, "choosing the ensemble")
    chosen = backtest.ensemble()
    if "lightgbm" in chosen.members:
        pad = max(lags_for(m)) + 1
        y, covs, cal = _padded(panel, pad)
        gbm = GBMForecaster.fit(y, m, covs, cal, seed=spec.seed)
    levels = np.asarray(spec.quantiles)
    report(1.0, f"chose {' + '.join(chosen.members)} (MASE {chosen.mase:.3f})")
    id_dtype = str(frame[spec.id_column].dtype) if spec.id_column else "String"
    return ForecastModel(spec=spec, panel=panel, m=m, members=chosen.members,
                         error_quantiles=backtest.error_quantiles(chosen.members, levels),
                         scale=mase_scale(panel.y, m), scores=sorted(backtest.scores.values(), key=lambda s: s.mase),
                         chosen=chosen, id_dtype=id_dtype, gbm=gbm, warnings=list(panel.warnings))


def _gbm_fits_budget(panel: Panel, backtest: Backtest, m: int, deadline: float) -> bool:
    n, width = panel.y.shape
    rows = min(n * max(width - max(lags_for(m)), 1), 250_000)
    estimate = GBM_SECONDS_PER_ROW * rows * (len(backtest.windows.cutoffs) + 1) + 0.01 * n * backtest.horizon / 100
    return bool(time.monotonic() + estimate < deadline)


def point_forecast(model: ForecastModel, future: dict[str, np.ndarray]) -> np.ndarray:
    """(n, h) mean of the members' forecasts from the whole history."""
    h = model.spec.horizon
    parts = []
    for name in model.members:
        if name == "lightgbm" and model.gbm is not None:
            pad = max(model.gbm.lags) + 1
            y, covs, cal = _padded(model.panel, pad, future, h)
            parts.append(model.gbm.forecast(y, h, covs, cal))
        else:
            parts.append(STAT_MODELS[name](trim(model.panel.y), model.m, h))
    return np.asarray(np.mean(parts, axis=0))


def quantile_forecast(model: ForecastModel, point: np.ndarray) -> np.ndarray:
    """(n, h, q) quantiles: the point plus each series' scale times the backtest's error quantiles."""
    out = point[:, :, None] + model.scale[:, None, None] * model.error_quantiles[None, :, :]
    return np.sort(out, axis=2)
