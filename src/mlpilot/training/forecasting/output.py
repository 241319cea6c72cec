"""Saving and loading a forecasting model folder, and writing the forecast frame.

The folder holds `forecaster.joblib` (the ForecastModel: history panel, members, boosting model, error
quantiles) and the mlpilot manifest with flavor `forecast`. Like the AutoML flavor it unpickles code, so
only folders this installation wrote are trusted.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors import read_manifest, write_manifest
from mlpilot.training.forecasting.data import ID_ALL, time_values, to_time_values
from mlpilot.training.forecasting.engine import ForecastModel, point_forecast, quantile_forecast

MODEL_FILE = "forecaster.joblib"
FLAVOR = "forecast"


def save(model: ForecastModel, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path / MODEL_FILE)
    spec = model.spec
    write_manifest(path, {
        "flavor": FLAVOR, "task": "forecast", "target": spec.target, "time_column": spec.time_column,
        "id_column": spec.id_column, "horizon": spec.horizon, "quantiles": list(spec.quantiles),
        "frequency": model.panel.axis.frequency.label(), "season_length": model.m, "series": len(model.panel.ids),
        "covariates": sorted(model.panel.covariates), "members": model.members, "metrics": model.metrics,
        "candidates": [{"name": s.name, "mase": s.mase, "smape": s.smape, "rmse": s.rmse, "seconds": s.seconds}
                       for s in model.scores],
    })


def load(path: Path) -> ForecastModel:
    manifest = read_manifest(path)
    if manifest.get("flavor") != FLAVOR:
        raise InvalidInput(f"{path} holds a {manifest.get('flavor')} model, not a forecasting model; use"
                           " `mlpilot automl predict` for it.")
    file = path / MODEL_FILE
    if not file.is_file():
        raise InvalidInput(f"Model folder {path} is missing {MODEL_FILE}.")
    model = joblib.load(file)
    if not isinstance(model, ForecastModel):
        raise InvalidInput(f"{file} does not hold a forecasting model.")
    return model


def _future_covariates(model: ForecastModel, future: pl.DataFrame | None, times: pl.Series) -> dict[
        str, np.ndarray]:
    """Covariates for every series and step of the horizon, matched on (id, time); a hole is an error."""
    names = sorted(model.panel.covariates)
    if not names:
        return {}
    spec = model.spec
    if future is None:
        raise InvalidInput(f"The model uses the known-future covariate(s) {', '.join(names)}: give their values for"
                           f" the next {spec.horizon} steps of every series with --data.")
    needed = [spec.time_column, *names] + ([spec.id_column] if spec.id_column else [])
    missing = [c for c in needed if c not in future.columns]
    if missing:
        raise InvalidInput(f"The future data lacks column(s) {', '.join(missing)}.")
    stamps, _, _ = time_values(future, spec.time_column)
    n, h = len(model.panel.ids), spec.horizon
    ids = (future[spec.id_column].cast(pl.String) if spec.id_column else pl.Series([ID_ALL] * future.height))
    given = pl.DataFrame({"id": ids, "t": stamps, **{f"c{i}": future[c].cast(pl.Float64)
                                                     for i, c in enumerate(names)}})
    wanted_t, _, _ = time_values(pl.DataFrame({"t": times}), "t")
    wanted = pl.DataFrame({"id": np.repeat(model.panel.ids, h), "t": wanted_t, "row": np.arange(n * h)})
    joined = wanted.join(given.unique(["id", "t"], keep="first"), on=["id", "t"], how="left").sort("row")
    out = {}
    for i, name in enumerate(names):
        values = joined[f"c{i}"]
        if values.null_count():
            row = joined.filter(pl.col(f"c{i}").is_null()).row(0, named=True)
            where = f"series '{row['id']}' at {row['t']}" if spec.id_column else f"{row['t']}"
            raise InvalidInput(f"Future covariate '{name}' is missing for {values.null_count()} of the {n * h}"
                               f" horizon steps (first: {where}).")
        out[name] = values.to_numpy().reshape(n, h)
    return out


def forecast_frame(model: ForecastModel, future: pl.DataFrame | None = None) -> pl.DataFrame:
    """id, time, `prediction` and one column per quantile level (named like "0.1") for every series."""
    spec, panel = model.spec, model.panel
    h = spec.horizon
    times = to_time_values(panel.axis, panel.times(np.arange(1, h + 1))).alias(spec.time_column)
    covs = _future_covariates(model, future, times)
    point = point_forecast(model, covs)
    quantiles = quantile_forecast(model, point)
    columns: dict[str, pl.Series] = {}
    if spec.id_column:
        ids = pl.Series(spec.id_column, np.repeat(panel.ids, h))
        try:
            ids = ids.cast(getattr(pl, model.id_dtype, pl.String))
        except (pl.exceptions.PolarsError, TypeError):
            pass  # keep the text form of an id whose type does not round-trip
        columns[spec.id_column] = ids
    columns[spec.time_column] = times
    columns["prediction"] = pl.Series("prediction", point.ravel(), dtype=pl.Float64)
    for k, level in enumerate(spec.quantiles):
        columns[f"{level:g}"] = pl.Series(f"{level:g}", quantiles[:, :, k].ravel(), dtype=pl.Float64)
    return pl.DataFrame(list(columns.values()))
