"""One LightGBM model for all series on window-normalised lags, calendar features and known covariates.

Each sample is a point t of a series: its last `p` values (plus one and two seasons back) divided by the
series' scale and centred on the mean of the recent window, the calendar of t and the covariates at t;
the target is the value at t on the same footing. Forecasts are recursive, all series at once per step.
Normalising by window lets one model serve series of any level, and many series make it strong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from mlpilot.training.forecasting.data import US_PER, Frequency

MAX_ROWS = 250_000  # training samples kept (the most recent of every series) to bound the fit time


def calendar(frequency: Frequency, units: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar features of grid units (n, k): month of year, day of week, hour … as fits the frequency."""
    if frequency.kind == "index":
        return {}
    if frequency.kind == "months":
        return {"month": units % 12} if frequency.step < 12 else {}
    stamps = pl.Series(units.ravel()).cast(pl.Datetime("us"))
    shape = units.shape
    out: dict[str, np.ndarray] = {}
    if frequency.step < US_PER["d"]:
        out["hour"] = stamps.dt.hour().to_numpy().reshape(shape)
        out["minute"] = stamps.dt.minute().to_numpy().reshape(shape)
    if frequency.step <= US_PER["d"]:
        out["weekday"] = stamps.dt.weekday().to_numpy().reshape(shape)
    if frequency.step >= US_PER["d"]:
        out["month"] = stamps.dt.month().to_numpy().reshape(shape)
        out["week"] = stamps.dt.week().to_numpy().reshape(shape)
    if frequency.step == US_PER["d"]:
        out["day"] = stamps.dt.day().to_numpy().reshape(shape)
    return out


def lags_for(m: int) -> list[int]:
    p = min(max(m, 7), 24)
    extra = [k * m for k in (1, 2) if m > 1 and k * m > p]
    return list(range(1, p + 1)) + extra


@dataclass
class GBMForecaster:
    """Fitted global model; `forecast` needs the same history layout and the covariates over the horizon."""

    m: int
    lags: list[int]
    window: int
    covariates: list[str]
    calendar_names: list[str] = field(default_factory=list)
    booster: object | None = None

    @classmethod
    def fit(cls, y: np.ndarray, m: int, covariates: dict[str, np.ndarray], cal: dict[str, np.ndarray],
            seed: int = 0, n_estimators: int = 200) -> GBMForecaster:
        import lightgbm as lgb

        model = cls(m=m, lags=lags_for(m), window=min(max(m, 4), 7 if m <= 1 else m, 24), covariates=sorted(covariates),
                    calendar_names=sorted(cal))
        scale = _scale(y)
        z = y / scale[:, None]
        start = max(model.lags) + 1
        per_series = max(1, min(y.shape[1] - start, MAX_ROWS // max(y.shape[0], 1)))
        positions = np.arange(y.shape[1] - per_series, y.shape[1])
        positions = positions[positions >= max(model.lags)]
        x, target, _ = model._features(z, positions, covariates, cal)
        keep = np.isfinite(target) & np.isfinite(x[:, : model.window]).all(axis=1)
        x, target = x[keep], target[keep]
        if target.size < 10:
            raise ValueError("too few complete windows for the gradient-boosting model")
        model.booster = lgb.LGBMRegressor(
            n_estimators=n_estimators, learning_rate=0.08, num_leaves=31,
            min_child_samples=int(max(5, min(20, target.size // 50))), subsample=0.8, subsample_freq=1,
            colsample_bytree=0.9, random_state=seed, verbose=-1,
            # Two threads only pay off on large fits; on small ones (and busy cores) they spin.
            n_jobs=2 if target.size > 50_000 else 1).fit(x, target)
        return model

    def _features(self, z: np.ndarray, positions: np.ndarray, covariates: dict[str, np.ndarray],
                  cal: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows for every (series, position) pair, series-major, the target (NaN beyond the history) and the
        window mean each row is centred on."""
        n = z.shape[0]
        lagged = np.stack([z[:, positions - lag] for lag in self.lags], axis=-1)  # (n, k, L)
        recent = lagged[:, :, : self.window]
        known = np.isfinite(recent)
        count = known.sum(axis=-1, keepdims=True)
        base = np.where(known, recent, 0.0).sum(axis=-1, keepdims=True) / np.maximum(count, 1)
        columns = [lagged - base]
        for name in self.calendar_names:
            columns.append(cal[name][:, positions][..., None].astype(float))
        for name in self.covariates:
            columns.append(covariates[name][:, positions][..., None])
        x = np.concatenate(columns, axis=-1).reshape(n * positions.size, -1)
        inside = positions < z.shape[1]
        target = np.full((n, positions.size), np.nan)
        target[:, inside] = z[:, positions[inside]] - base[:, inside, 0]
        return x, target.ravel(), base.ravel()

    def forecast(self, y: np.ndarray, h: int, covariates: dict[str, np.ndarray],
                 cal: dict[str, np.ndarray]) -> np.ndarray:
        """Recursive forecasts (n, h); covariates and calendar span history plus horizon (n, T + h)."""
        scale = _scale(y)
        width = y.shape[1]
        z = np.concatenate([y / scale[:, None], np.full((y.shape[0], h), np.nan)], axis=1)
        for k in range(h):
            pos = np.array([width + k])
            x, _, base = self._features(z[:, : width + k + 1], pos, covariates, cal)
            z[:, width + k] = base + self.booster.predict(x)  # type: ignore[attr-defined]
        return np.asarray(z[:, width:] * scale[:, None])


def _scale(y: np.ndarray) -> np.ndarray:
    """Per-series scale: mean absolute one-step change, or the mean level for a flat series."""
    diff = np.abs(np.diff(y, axis=1))
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(diff).sum(axis=1)
        change = np.where(counts > 0, np.nansum(diff, axis=1) / np.maximum(counts, 1), 0.0)
        level = np.nanmean(np.abs(y), axis=1)
    return np.asarray(np.where(change > 0, change, np.where(level > 0, level, 1.0)))
