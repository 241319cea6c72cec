"""The fixed contract: `automl fit --task forecast …` then `automl forecast --model-dir … --out …`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from mlpilot.cli.main import app


def daily_frame(series: int = 5, days: int = 120, promo: bool = False) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    times = pl.datetime_range(datetime(2024, 1, 1), datetime(2025, 12, 31), "1d", eager=True).head(days)
    parts = []
    for i in range(series):
        t = np.arange(days)
        y = 20 + i + 5 * (t % 7 >= 5) + rng.normal(0, 1, days)
        frame = pl.DataFrame({"item": [100 + i] * days, "day": times, "units": y})
        if promo:
            flag = (rng.random(days) < 0.2).astype(float)
            frame = frame.with_columns(promo=pl.Series(flag), units=pl.Series(y + 10 * flag))
        parts.append(frame)
    return pl.concat(parts)


def fit_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["automl", "fit", "--task", "forecast", "--train", str(tmp_path / "train.parquet"), "--target", "units",
            "--time-column", "day", "--time-limit", "20", "--model-dir", str(tmp_path / "m"),
            "--from-command-start", *extra]


def test_fit_then_forecast_writes_id_time_prediction_and_quantiles(tmp_path: Path) -> None:
    daily_frame().write_parquet(tmp_path / "train.parquet")
    runner = CliRunner()
    result = runner.invoke(app, fit_args(tmp_path, "--id-column", "item", "--horizon", "14"))
    assert result.exit_code == 0, result.output
    assert "Saved forecasting model" in result.output
    info = json.loads((tmp_path / "m" / "bench_info.json").read_text())
    assert info["task"] == "forecast" and info["series"] == 5 and info["frequency"] == "daily" and info["mase"] > 0
    result = runner.invoke(app, ["automl", "forecast", "--model-dir", str(tmp_path / "m"), "--out",
                                 str(tmp_path / "f.parquet")])
    assert result.exit_code == 0, result.output
    out = pl.read_parquet(tmp_path / "f.parquet")
    assert out.columns[:3] == ["item", "day", "prediction"] and "0.1" in out.columns and "0.9" in out.columns
    assert out.height == 5 * 14 and out["item"].dtype == pl.Int64 and out["prediction"].dtype == pl.Float64
    assert out.group_by("item").agg(pl.col("day").min())["day"].to_list() == [datetime(2024, 4, 30)] * 5
    weekend = out.filter(pl.col("day").dt.weekday() >= 6)["prediction"].mean()
    weekday = out.filter(pl.col("day").dt.weekday() < 6)["prediction"].mean()
    assert weekend - weekday > 3  # type: ignore[operator]


def test_covariates_through_data_and_clear_errors(tmp_path: Path) -> None:
    daily_frame(series=3, promo=True).write_parquet(tmp_path / "train.parquet")
    runner = CliRunner()
    result = runner.invoke(app, fit_args(tmp_path, "--id-column", "item", "--horizon", "7"))
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["automl", "forecast", "--model-dir", str(tmp_path / "m"), "--out",
                                 str(tmp_path / "f.parquet")])
    assert result.exit_code == 1 and "known-future covariate(s) promo" in result.output
    days = pl.datetime_range(datetime(2024, 4, 30), datetime(2024, 5, 6), "1d", eager=True).to_list()
    future = pl.DataFrame({"item": np.repeat([100, 101, 102], 7), "day": days * 3, "promo": [0.0] * 21})
    future.write_parquet(tmp_path / "future.parquet")
    result = runner.invoke(app, ["automl", "forecast", "--model-dir", str(tmp_path / "m"), "--data",
                                 str(tmp_path / "future.parquet"), "--out", str(tmp_path / "f.parquet")])
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(tmp_path / "f.parquet").height == 21
    future.head(20).write_parquet(tmp_path / "short.parquet")
    result = runner.invoke(app, ["automl", "forecast", "--model-dir", str(tmp_path / "m"), "--data",
                                 str(tmp_path / "short.parquet"), "--out", str(tmp_path / "f.parquet")])
    assert result.exit_code == 1 and "Future covariate 'promo' is missing for 1 of the 21" in result.output
    assert "series '102'" in result.output
    result = runner.invoke(app, fit_args(tmp_path, "--id-column", "item"))
    assert result.exit_code == 1 and "needs --time-column and --horizon" in result.output
    result = runner.invoke(app, fit_args(tmp_path, "--id-column", "item", "--horizon", "500"))
    assert result.exit_code == 1 and "shorter than the horizon of 500" in result.output
    result = runner.invoke(app, ["automl", "predict", "--model-dir", str(tmp_path / "m"), "--data",
                                 str(tmp_path / "future.parquet"), "--out", str(tmp_path / "p.parquet")])
    assert result.exit_code == 1 and "holds a forecasting model: use `mlpilot automl forecast`" in result.output
    result = runner.invoke(app, ["automl", "forecast", "--model-dir", str(tmp_path / "nowhere"), "--out",
                                 str(tmp_path / "f.parquet")])
    assert result.exit_code == 1 and "not an mlpilot model folder" in result.output
