"""`mlpilot automl fit|predict|forecast`: offline AutoML on parquet files (no server), the benchmarks' contract.

fit trains an engine (default: the built-in `auto`) within --time-limit seconds counted from process start,
writes a model folder loadable by `mlpilot.registry.flavors.load_model`, and `bench_info.json` beside it.
predict writes one float column per class named by its label (classification) or `prediction` (regression).
fit --task forecast writes a forecasting model; forecast writes id, time, `prediction` and quantile columns.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Offline AutoML on parquet files: fit a model folder, predict with it.",
                  no_args_is_help=True)

SAVE_RESERVE_S = 1.5  # kept back from the budget for writing the model folder and exiting (plus 3 % of it)


def _process_age() -> float:
    """Seconds since this process started (the budget counts start-up and reading the data too)."""
    try:
        ticks = os.sysconf(os.sysconf_names["SC_CLK_TCK"])
        start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - start)
    except (OSError, ValueError, KeyError, IndexError):
        return 0.0


def _fail(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, soft_wrap=True).print(f"[red]Error:[/] {message}")
    raise typer.Exit(1)


@app.command()
def fit(train: Annotated[Path, typer.Option(help="Training data (parquet) with the features and the target.")],
        target: Annotated[str, typer.Option(help="Column to predict.")],
        model_dir: Annotated[Path, typer.Option(help="Folder to write the model into.")],
        task: Annotated[str, typer.Option(help="binary, multiclass, regression, forecast or auto.")] = "auto",
        time_limit: Annotated[float, typer.Option(help="Time budget in seconds for the whole command.")] = 60,
        engine: Annotated[str, typer.Option(help="Engine name (see the mlpilot.engines entry points).")] = "auto",
        seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
        metric: Annotated[str | None, typer.Option(help="Metric to optimise (default: by task).")] = None,
        from_process_start: Annotated[bool, typer.Option("--from-process-start/--from-command-start",
            help="Count the time limit from process start (start-up and reading included), or from now.")] = True,
        time_column: Annotated[str | None, typer.Option(help="forecast: the time column.")] = None,
        id_column: Annotated[str | None, typer.Option(help="forecast: the series id column (none: one series).")
                             ] = None,
        horizon: Annotated[int | None, typer.Option(help="forecast: steps to forecast.", min=1, max=10_000)] = None,
        ) -> None:
    """Train a model on a parquet file within a time limit and save it to a model folder.

    With --task forecast the other columns are known-future covariates; see docs/forecasting.md.
    """
    import polars as pl
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from mlpilot.core.errors import MlpilotError
    from mlpilot.training.engines import engines

    started = time.monotonic() - (_process_age() if from_process_start else 0.0)
    if not train.is_file():
        _fail(f"Training file {train} does not exist.")
    try:
        frame = pl.read_parquet(train)
    except Exception as exc:  # noqa: BLE001 — any reader error is the user's file
        _fail(f"Cannot read {train} as parquet: {exc}")
    if task == "forecast":
        if time_column is None or horizon is None:
            _fail("--task forecast needs --time-column and --horizon.")
            return
        _fit_forecast(frame, target=target, time_column=str(time_column), id_column=id_column, horizon=horizon,
                      time_limit=time_limit, started=started, model_dir=model_dir, seed=seed)
        return
    try:
        engine_cls = engines.get(engine)
    except MlpilotError as exc:
        _fail(exc.detail)
    budget = time_limit - (time.monotonic() - started) - SAVE_RESERVE_S - 0.03 * time_limit
    if budget <= 0:
        _fail(f"The time limit of {time_limit:g} s is used up before training starts; give at least a few seconds.")
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]Training"), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[step]}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        job = bar.add_task("fit", total=1.0, step="starting")

        def progress(fraction: float, message: str) -> None:
            bar.update(job, completed=fraction, step=message)

        try:
            model = engine_cls().fit(frame, target=target, task=task, time_budget_s=budget, metric=metric,
                                     progress=progress, seed=seed)
        except MlpilotError as exc:
            bar.stop()
            _fail(exc.detail)
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save(model_dir)
    info: dict[str, Any] = model.bench_info() if hasattr(model, "bench_info") else {"engine": engine}
    info["seconds"] = round(time.monotonic() - started, 2)
    (model_dir / "bench_info.json").write_text(json.dumps(info, indent=2, default=str))
    for warning in getattr(model, "warnings_", []):
        console.print(f"[yellow]Warning:[/] {warning}")
    metrics = {k: v for k, v in model.metrics_.items() if isinstance(v, float)}
    console.print(f"Saved {engine} model to {model_dir} in {info['seconds']:.1f} s; "
                  + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))


def _fit_forecast(frame: object, *, target: str, time_column: str, id_column: str | None, horizon: int,
                  time_limit: float, started: float, model_dir: Path, seed: int) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from mlpilot.core.errors import MlpilotError
    from mlpilot.training.forecasting import output
    from mlpilot.training.forecasting.engine import ForecastSpec, fit_forecast

    budget = time_limit - (time.monotonic() - started) - SAVE_RESERVE_S - 0.03 * time_limit
    if budget <= 0:
        _fail(f"The time limit of {time_limit:g} s is used up before training starts; give at least a few seconds.")
    spec = ForecastSpec(target=target, time_column=time_column, id_column=id_column, horizon=horizon, seed=seed)
    console = Console(stderr=True)
    with Progress(TextColumn("[bold]Forecasting"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.fields[step]}"), TimeElapsedColumn(), console=console, transient=False) as bar:
        job = bar.add_task("fit", total=1.0, step="starting")
        try:
            model = fit_forecast(frame, spec, budget,  # type: ignore[arg-type]
                                 lambda fraction, message: bar.update(job, completed=fraction, step=message))
        except MlpilotError as exc:
            bar.stop()
            _fail(exc.detail)
    output.save(model, model_dir)
    seconds = round(time.monotonic() - started, 2)
    info = {"engine": "forecast", "task": "forecast", "members": model.members, "series": len(model.panel.ids),
            "frequency": model.panel.axis.frequency.label(), "seconds": seconds, **model.metrics,
            "candidates": {s.name: s.mase for s in model.scores}}
    (model_dir / "bench_info.json").write_text(json.dumps(info, indent=2))
    for warning in model.warnings:
        console.print(f"[yellow]Warning:[/] {warning}")
    console.print(f"Saved forecasting model ({' + '.join(model.members)}) to {model_dir} in {seconds:.1f} s; "
                  + ", ".join(f"backtest {k} {v:.4f}" for k, v in model.metrics.items()))


@app.command()
def forecast(model_dir: Annotated[Path, typer.Option(help="A model folder written by fit --task forecast.")],
             out: Annotated[Path, typer.Option(help="Where to write the forecasts (parquet).")],
             data: Annotated[Path | None, typer.Option(
                 help="Known-future covariates (parquet) for the next horizon steps of every series.")] = None,
             ) -> None:
    """Forecast the next horizon steps of every series: id, time, `prediction` and quantile columns."""
    import polars as pl

    from mlpilot.core.errors import MlpilotError
    from mlpilot.training.forecasting import output

    if data is not None and not data.is_file():
        _fail(f"Data file {data} does not exist.")
    try:
        model = output.load(model_dir)
        future = pl.read_parquet(data) if data is not None else None
        result = output.forecast_frame(model, future)
    except MlpilotError as exc:
        _fail(exc.detail)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.write_parquet(out)


@app.command()
def predict(model_dir: Annotated[Path, typer.Option(help="A model folder written by fit.")],
            data: Annotated[Path, typer.Option(help="Rows to predict (parquet).")],
            out: Annotated[Path, typer.Option(help="Where to write the predictions (parquet).")]) -> None:
    """Predict with a model folder: class probabilities (one column per class) or a `prediction` column."""
    import polars as pl

    from mlpilot.core.errors import MlpilotError
    from mlpilot.registry.flavors import load_model

    if not data.is_file():
        _fail(f"Data file {data} does not exist.")
    try:
        model = load_model(model_dir)
        prediction = model.predict(pl.read_parquet(data))
    except MlpilotError as exc:
        _fail(exc.detail)
    if prediction.values is not None:
        result = pl.DataFrame({"prediction": prediction.values})
    else:
        classes = list(model.signature.classes or ())
        result = pl.DataFrame({label: prediction.class_probabilities[:, i] for i, label in enumerate(classes)})
    out.parent.mkdir(parents=True, exist_ok=True)
    result.write_parquet(out)
