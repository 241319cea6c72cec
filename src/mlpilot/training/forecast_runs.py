"""Training runs of task 'forecast': hold out the last horizon of every series, score, refit on everything.

The held-out window is scored like the CLI's benchmark (MASE against the in-sample seasonal naive scale,
sMAPE, RMSE, pinball over the quantiles); the run keeps a few series' history, held-out actuals, forecast and
80 % interval for the run page's charts. Half the budget goes to the evaluation fit, half to the final one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.training.forecasting import metrics, output
from mlpilot.training.forecasting.data import ID_ALL, parse_time_column
from mlpilot.training.forecasting.engine import ForecastModel, ForecastSpec, fit_forecast

CHART_SERIES = 6
CHART_HISTORY = 60  # points of history drawn before the held-out window


@dataclass
class ForecastRunResult:
    model: ForecastModel
    metrics: dict[str, float]
    backtest: dict[str, float]
    charts: list[dict[str, object]]
    candidates: list[dict[str, object]]


def spec_of(target: str, params: dict[str, object]) -> ForecastSpec:
    horizon = params.get("horizon")
    time_column = params.get("time_column")
    id_column = params.get("id_column")
    if not isinstance(horizon, int) or not isinstance(time_column, str):
        raise InvalidInput("This forecasting run lacks its time column or horizon.")
    return ForecastSpec(target=target, time_column=time_column, horizon=horizon,
                        id_column=id_column if isinstance(id_column, str) else None)


def holdout_split(frame: pl.DataFrame, spec: ForecastSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The last `horizon` rows of every series (by time) are held out; the rest is trained on."""
    key = [spec.id_column] if spec.id_column else []
    ranked = frame.filter(pl.col(spec.target).is_not_null()).sort(spec.time_column).with_columns(
        __from_end=(pl.int_range(pl.len()).reverse().over(key) if key else pl.int_range(pl.len()).reverse()))
    train = ranked.filter(pl.col("__from_end") >= spec.horizon).drop("__from_end")
    test = ranked.filter(pl.col("__from_end") < spec.horizon).drop("__from_end")
    return train, test


def _scores(model: ForecastModel, forecast: pl.DataFrame, test: pl.DataFrame) -> dict[str, float]:
    spec = model.spec
    key = [spec.id_column] if spec.id_column else []
    joined = forecast.join(test.select([*key, spec.time_column, spec.target]), on=[*key, spec.time_column],
                           how="inner")
    if joined.height == 0:
        raise InvalidInput("No held-out point lines up with a forecast step; are the series regular?")
    ids = joined[spec.id_column].cast(pl.String).to_list() if spec.id_column else [ID_ALL] * joined.height
    position = {name: i for i, name in enumerate(model.panel.ids)}
    scale = metrics.mase_scale(model.panel.y, model.m)[[position[i] for i in ids]]
    actual = joined[spec.target].cast(pl.Float64).to_numpy()
    point = joined["prediction"].to_numpy()
    levels = np.asarray(spec.quantiles)
    quantiles = joined.select([f"{q:g}" for q in spec.quantiles]).to_numpy()
    return {"mase": float(np.mean(np.abs(actual - point) / scale)),
            "smape": float(metrics.smape(actual[None, :], point[None, :])[0]),
            "rmse": float(np.sqrt(np.mean((actual - point) ** 2))),
            "pinball": float(metrics.pinball(actual[None, :], quantiles[None, :, :], levels)[0] / np.mean(scale)),
            "test_rows": float(joined.height), "series": float(len(model.panel.ids))}


def _charts(spec: ForecastSpec, train: pl.DataFrame, test: pl.DataFrame, forecast: pl.DataFrame
            ) -> list[dict[str, object]]:
    key = spec.id_column
    names = (forecast[key].unique(maintain_order=True).head(CHART_SERIES).to_list() if key else [None])
    charts: list[dict[str, object]] = []
    for name in names:
        def part(frame: pl.DataFrame, current: object = name) -> pl.DataFrame:
            return frame.filter(pl.col(key) == current) if key else frame
        history = part(train).tail(CHART_HISTORY)
        future = part(forecast).join(part(test).select(spec.time_column, spec.target), on=spec.time_column,
                                     how="left")
        charts.append({
            "series": str(name) if name is not None else "",
            "times": [str(t) for t in [*history[spec.time_column].to_list(), *future[spec.time_column].to_list()]],
            "history": history[spec.target].cast(pl.Float64).to_list(),
            "actual": future[spec.target].cast(pl.Float64).to_list(),
            "forecast": future["prediction"].to_list(), "low": future["0.1"].to_list(),
            "high": future["0.9"].to_list()})
    return charts


def fit_forecast_run(frame: pl.DataFrame, *, target: str, params: dict[str, object], time_budget_s: float,
                     model_dir: Path, note: Callable[[str], None],
                     progress: Callable[[float, str], None]) -> ForecastRunResult:
    """Evaluate on the held-out window, then refit on all rows and save the model folder to `model_dir`."""
    started = time.monotonic()
    spec = spec_of(target, params)
    frame = parse_time_column(frame, spec.time_column)
    train, test = holdout_split(frame, spec)
    note(f"{frame.height} rows: the last {spec.horizon} steps of every series held out ({test.height} rows)")
    covariates = [c for c in frame.columns if c not in (spec.target, spec.time_column, spec.id_column)]
    future = test.select([c for c in (spec.id_column, spec.time_column) if c] + covariates) if covariates else None
    evaluated = fit_forecast(train, spec, time_budget_s / 2, lambda f, m: progress(0.05 + 0.4 * f, m))
    held_out = output.forecast_frame(evaluated, future)
    scores = _scores(evaluated, held_out, test)
    note("held-out window: " + ", ".join(f"{k}={v:.4g}" for k, v in scores.items()))
    left = max(1.0, time_budget_s - (time.monotonic() - started))
    final = fit_forecast(frame, spec, left, lambda f, m: progress(0.5 + 0.4 * f, m))
    for warning in final.warnings:
        note(f"warning: {warning}")
    output.save(final, model_dir)
    candidates: list[dict[str, object]] = [{"name": s.name, "mase": s.mase, "smape": s.smape, "seconds": s.seconds}
                                           for s in final.scores]
    return ForecastRunResult(model=final, metrics=scores, backtest=final.metrics,
                             charts=_charts(spec, train, test, held_out), candidates=candidates)
