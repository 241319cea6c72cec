"""`mlpilot automl fit|predict`: the offline contract the benchmark drives."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from mlpilot.cli.main import app
from mlpilot.testing.engines import tiny_frame


def test_fit_then_predict_writes_one_column_per_class(tmp_path: Path) -> None:
    frame = tiny_frame("binary", rows=200).with_columns(pl.col("y").replace({"yes": "1", "no": "0"}).cast(pl.Int64))
    frame.write_parquet(tmp_path / "train.parquet")
    frame.drop("y").head(30).write_parquet(tmp_path / "test.parquet")
    runner = CliRunner()
    result = runner.invoke(app, ["automl", "fit", "--train", str(tmp_path / "train.parquet"), "--target", "y",
                                 "--task", "binary", "--time-limit", "4", "--model-dir", str(tmp_path / "m"),
                                 "--from-command-start"])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "m" / "bench_info.json").read_text())
    assert info["engine"] == "auto" and info["trials"] >= 1 and info["ensemble"]
    result = runner.invoke(app, ["automl", "predict", "--model-dir", str(tmp_path / "m"), "--data",
                                 str(tmp_path / "test.parquet"), "--out", str(tmp_path / "p.parquet")])
    assert result.exit_code == 0, result.output
    out = pl.read_parquet(tmp_path / "p.parquet")
    assert out.columns == ["0", "1"] and out.height == 30


def test_regression_with_the_lightgbm_engine_and_clear_errors(tmp_path: Path) -> None:
    frame = tiny_frame("regression")
    frame.write_parquet(tmp_path / "train.parquet")
    frame.drop("y", "x2").write_parquet(tmp_path / "bad.parquet")
    runner = CliRunner()
    result = runner.invoke(app, ["automl", "fit", "--train", str(tmp_path / "train.parquet"), "--target", "y",
                                 "--task", "regression", "--time-limit", "3", "--model-dir", str(tmp_path / "m"),
                                 "--engine", "lightgbm", "--from-command-start"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["automl", "predict", "--model-dir", str(tmp_path / "m"), "--data",
                                 str(tmp_path / "train.parquet"), "--out", str(tmp_path / "p.parquet")])
    assert result.exit_code == 0 and pl.read_parquet(tmp_path / "p.parquet").columns == ["prediction"]
    result = runner.invoke(app, ["automl", "predict", "--model-dir", str(tmp_path / "m"), "--data",
                                 str(tmp_path / "bad.parquet"), "--out", str(tmp_path / "p.parquet")])
    assert result.exit_code == 1 and "Missing input column(s): x2" in result.output
    result = runner.invoke(app, ["automl", "fit", "--train", str(tmp_path / "nope.parquet"), "--target", "y",
                                 "--model-dir", str(tmp_path / "m2")])
    assert result.exit_code == 1 and "does not exist" in result.output
    result = runner.invoke(app, ["automl", "fit", "--train", str(tmp_path / "train.parquet"), "--target", "y",
                                 "--model-dir", str(tmp_path / "m2"), "--engine", "nope", "--time-limit", "3"])
    assert result.exit_code == 1 and "No engine named 'nope'" in result.output
