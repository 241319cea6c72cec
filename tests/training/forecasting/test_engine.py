"""Candidates, metrics, backtests without leakage, ensembles, quantiles and the save/forecast round trip."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.training.forecasting import metrics, output
from mlpilot.training.forecasting.backtest import new_backtest, stat_candidate
from mlpilot.training.forecasting.data import build_panel
from mlpilot.training.forecasting.engine import ForecastSpec, _gbm_candidate, fit_forecast
from mlpilot.training.forecasting.statistical import STAT_MODELS


def seasonal_panel(n: int = 6, length: int = 96, seed: int = 0, covariate: bool = False) -> pl.DataFrame:
    """Monthly series with trend and a multiplicative season; with `covariate`, a promotion that adds 30."""
    rng = np.random.default_rng(seed)
    parts = []
    times = pl.datetime_range(datetime(2010, 1, 1), datetime(2030, 1, 1), "1mo", eager=True).head(length)
    for i in range(n):
        t = np.arange(length)
        y = (40 + 5 * i + 0.4 * t) * (1 + 0.25 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 1.5, length)
        frame = pl.DataFrame({"shop": [f"s{i}"] * length, "month": times, "sales": y})
        if covariate:
            promo = (rng.random(length) < 0.3).astype(float)
            frame = frame.with_columns(promo=pl.Series(promo), sales=pl.Series(y + 30 * promo))
        parts.append(frame)
    return pl.concat(parts)


def test_metrics_on_known_values() -> None:
    actual, forecast = np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 2.0, 1.0]])
    assert metrics.mase(actual, forecast, np.array([0.5]))[0] == pytest.approx(2.0)
    assert metrics.rmse(actual, forecast)[0] == pytest.approx(np.sqrt(5 / 3))
    assert metrics.smape(np.zeros((1, 2)), np.zeros((1, 2)))[0] == 0.0
    assert metrics.smape(actual, forecast)[0] == pytest.approx(100 * (2 / 3 + 0 + 1) / 3)
    q = np.stack([forecast - 1, forecast + 1], axis=2)
    assert metrics.pinball(actual, q, np.array([0.1, 0.9]))[0] == pytest.approx(np.mean(
        [max(0.1 * d, -0.9 * d) for d in (actual - forecast + 1).ravel()]
        + [max(0.9 * d, -0.1 * d) for d in (actual - forecast - 1).ravel()]))
    history = np.array([[np.nan, 1.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0]])
    assert list(metrics.mase_scale(history, 1)) == [1.5, 5.0]  # a flat history falls back to its level


def test_statistical_candidates_beat_naive_on_a_seasonal_trend_and_handle_late_starts() -> None:
    p = build_panel(seasonal_panel(), target="sales", time_column="month", id_column="shop", horizon=12)
    y = p.y.copy()
    y[0, :40] = np.nan  # a series that starts later
    train, test = y[:, :-12], y[:, -12:]
    scale = metrics.mase_scale(train, 12)
    errors = {name: metrics.mase(test, model(train, 12, 12), scale).mean() for name, model in STAT_MODELS.items()}
    assert all(np.isfinite(v) for v in errors.values())
    assert errors["theta"] < errors["seasonal_naive"] < errors["naive"]
    assert errors["holt_damped"] < errors["naive"]
    y[1, :-5] = np.nan  # in an early backtest window this series has no history at all: NaN, not a crash
    for model in STAT_MODELS.values():
        assert np.isnan(model(y[:, :-12], 12, 12)[1]).all()


def test_backtest_never_sees_values_after_its_cutoff() -> None:
    p = build_panel(seasonal_panel(n=4, covariate=True), target="sales", time_column="month", id_column="shop",
                    horizon=6)
    backtest = new_backtest(p.y, 6, 12)
    assert backtest.windows.cutoffs == [90, 84, 78]
    for name in ("theta", "lightgbm"):
        candidate = (_gbm_candidate(p, 12, 6, 0) if name == "lightgbm" else stat_candidate(name, 12, 6))
        before = candidate(p.y[:, :84], 84)
        p.y[:, 84:] *= 3  # change every value from the cut-off on: the window's forecast must not move
        spoiled = _gbm_candidate(p, 12, 6, 0) if name == "lightgbm" else candidate
        after = spoiled(p.y[:, :84], 84)
        p.y[:, 84:] /= 3
        np.testing.assert_allclose(before, after)


def test_fit_chooses_by_backtest_and_forecasts_every_series_with_ordered_quantiles(tmp_path: Path) -> None:
    frame = seasonal_panel()
    spec = ForecastSpec(target="sales", time_column="month", id_column="shop", horizon=12,
                        candidates=("naive", "seasonal_naive", "theta", "lightgbm"))
    steps: list[str] = []
    model = fit_forecast(frame, spec, 60, lambda _f, message: steps.append(message))
    names = [s.name for s in model.scores]
    assert set(names) == {"naive", "seasonal_naive", "theta", "lightgbm"} and "backtesting theta" in steps
    assert model.chosen.mase <= min(s.mase for s in model.scores) and model.chosen.mase < 1.0
    output.save(model, tmp_path / "m")
    out = output.forecast_frame(output.load(tmp_path / "m"))
    assert out.columns == ["shop", "month", "prediction", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8",
                           "0.9"]
    assert out.height == 6 * 12 and out["month"].min() == datetime(2018, 1, 1)
    q = out.select([f"0.{k}" for k in range(1, 10)]).to_numpy()
    assert (np.diff(q, axis=1) >= 0).all() and (q[:, -1] > q[:, 0]).all()


def test_conformal_intervals_cover_held_out_values_roughly_at_their_level() -> None:
    frame = seasonal_panel(n=30, seed=3)
    held_out = frame.group_by("shop").tail(12)
    spec = ForecastSpec(target="sales", time_column="month", id_column="shop", horizon=12,
                        candidates=("seasonal_naive", "theta"))
    model = fit_forecast(frame.join(held_out, on=["shop", "month"], how="anti"), spec, 30)
    out = output.forecast_frame(model).join(held_out, on=["shop", "month"])
    inside = ((out["sales"] >= out["0.1"]) & (out["sales"] <= out["0.9"])).mean()
    assert 0.6 <= float(inside) <= 0.97  # type: ignore[arg-type]


def test_known_future_covariates_are_used_and_required(tmp_path: Path) -> None:
    frame = seasonal_panel(n=8, covariate=True, seed=1)
    spec = ForecastSpec(target="sales", time_column="month", id_column="shop", horizon=6,
                        candidates=("seasonal_naive", "lightgbm"))
    model = fit_forecast(frame, spec, 60)
    assert "lightgbm" in model.members
    with pytest.raises(InvalidInput, match="uses the known-future covariate"):
        output.forecast_frame(model)
    future = pl.DataFrame({"shop": np.repeat([f"s{i}" for i in range(8)], 6),
                           "month": pl.datetime_range(datetime(2018, 1, 1), datetime(2018, 6, 1), "1mo",
                                                      eager=True).to_list() * 8,
                           "promo": np.tile([1.0, 0.0, 1.0, 0.0, 1.0, 0.0], 8)})
    out = output.forecast_frame(model, future)
    promo_rows = out.with_row_index().filter(pl.col("index") % 2 == 0)["prediction"].mean()
    plain_rows = out.with_row_index().filter(pl.col("index") % 2 == 1)["prediction"].mean()
    assert promo_rows - plain_rows > 10  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=r"Future covariate 'promo' is missing for 1 of the 48 horizon steps "
                                           r"\(first: series 's3' at 2018-04-01"):
        output.forecast_frame(model, future.filter(~((pl.col("shop") == "s3") & (pl.col("month").dt.month() == 4))))
    with pytest.raises(InvalidInput, match="lacks column"):
        output.forecast_frame(model, future.drop("promo"))


def test_too_short_for_a_backtest_and_bad_quantiles() -> None:
    frame = seasonal_panel(n=2, length=7)
    with pytest.raises(InvalidInput, match="No series is long enough for a backtest of horizon 6"):
        fit_forecast(frame, ForecastSpec(target="sales", time_column="month", id_column="shop", horizon=6), 10)
    with pytest.raises(InvalidInput, match="strictly between 0 and 1"):
        fit_forecast(frame, ForecastSpec(target="sales", time_column="month", id_column="shop", horizon=2,
                                         quantiles=(0.5, 1.0)), 10)
