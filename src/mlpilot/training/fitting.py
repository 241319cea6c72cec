"""Fitting a queued run in a job: train on the train split, evaluate on the held-out test split, store the model
and hand it to the registry; on failure record why and keep nothing."""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.orm import Session

from mlpilot.core.db import session_scope, unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput, MlpilotError
from mlpilot.core.jobs import Job, JobContext, job_handler, on_job_interrupted
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import service as datasets_service
from mlpilot.training import evaluation, forecast_runs
from mlpilot.training import metrics as run_metrics
from mlpilot.training.catalog import ENGINE_LIBRARIES
from mlpilot.training.engines import engines
from mlpilot.training.engines.base import Engine
from mlpilot.training.external import resolve_external_config
from mlpilot.training.models import Run, RunStatus
from mlpilot.training.preparation import library_versions
from mlpilot.training.runs import (
    ACTIVE,
    FIT_JOB,
    MIN_TRAIN_ROWS,
    TEST_FRACTION,
    _set_status,
    blank_warnings,
    get_run,
    register_run,
    registration_decision,
)


def _engine_for(session: Session, runtime: Runtime, run: Run) -> Any:
    cls = engines.get(run.engine)
    if run.engine == "http":
        config = resolve_external_config(session, runtime=runtime, project_id=run.project_id,
                                         external_engine_id=int(run.params["external_engine_id"]))
        return cls(config=config)
    return cls(**run.params)


def split_for_evaluation(frame: pl.DataFrame, *, target: str, task: str,
                         seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The seeded train/test split every run of a dataset version shares (stratified for classification)."""
    known = frame.filter(pl.col(target).is_not_null())
    if known.schema[target].is_float():
        known = known.filter(pl.col(target).is_not_nan())
    labels = None if task == "regression" else known[target].cast(pl.String).to_numpy()
    train_idx, test_idx = evaluation.split_indices(known.height, labels=labels, fraction=TEST_FRACTION, seed=seed)
    return known[train_idx], known[test_idx]


def _versions(engine: Engine, model_dir: Path | None, name: str) -> dict[str, Any]:
    from mlpilot import __version__
    from mlpilot.registry.flavors import read_manifest

    found: dict[str, Any] = {"python": platform.python_version(), "mlpilot": __version__}
    found.update(library_versions("numpy", "polars"))
    found.update(library_versions(*ENGINE_LIBRARIES.get(name, ())))
    if model_dir is not None:
        try:
            found.update(read_manifest(model_dir).get("libraries") or {})
        except (OSError, ValueError, MlpilotError):
            pass
    found.update(engine.library_versions_)
    return found


def _save_drift_reference(engine: Engine, train: pl.DataFrame, model_dir: Path, *, target: str, note: Any) -> None:
    """Keep a sample of the training features and the model's answers on them, for live drift once deployed.

    Live drift then compares served traffic with what the model was trained on; without the file a service
    falls back to its own first window. A failure here costs only that, never the run.
    """
    from mlpilot.registry.flavors import REFERENCE_ROWS, Prediction, write_reference

    try:
        sample = train.drop(target)
        if sample.height > REFERENCE_ROWS:
            sample = sample.sample(REFERENCE_ROWS, seed=0)
        answers = np.asarray(engine.predict(sample))
        if engine.classes_ is not None:
            prediction = Prediction(probabilities=None, labels=[str(v) for v in answers], values=None)
        else:
            prediction = Prediction(probabilities=None, labels=None, values=answers.astype(np.float64))
        write_reference(model_dir, sample, prediction)
    except Exception as exc:  # noqa: BLE001 — the reference is a convenience for monitoring
        note(f"warning: no live-drift reference saved ({type(exc).__name__}: {exc})")


class _RunLog:
    """The run's log lines, stamped with the seconds since the fit started, also passed on to the job's log."""

    def __init__(self, sink: Any) -> None:
        self.started = time.monotonic()
        self.lines: list[str] = []
        self.sink = sink

    def __call__(self, line: str) -> None:
        self.lines.append(f"[{self.elapsed():7.1f}s] {line}")
        if self.sink is not None:
            self.sink(line)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def text(self) -> str:
        return "\n".join(self.lines)


def fit_run(session: Session, *, runtime: Runtime, run_id: int, progress: Any = None, log: Any = None) -> Run:
    """Train a queued run on the train split, evaluate it on the held-out test split, store and register it.

    On failure record why (and the log so far) and keep nothing.
    """
    run = get_run(session, run_id=run_id)
    if run.status != RunStatus.queued:
        raise InvalidInput(f"Run {run_id} is {run.status}; only a queued run can be trained.")
    _set_status(session, run_id, status=RunStatus.running)
    note = _RunLog(log)
    key = f"runs/{run_id}/model"
    published = False
    workdir = Path(tempfile.mkdtemp(prefix="mlpilot-run-"))
    report = progress or (lambda fraction, message: None)
    try:
        if run.task == "forecast":
            frame = datasets_service.read_dataset_version_frame(session, store=runtime.store,
                                                                version_id=run.dataset_version_id)
            forecasted = forecast_runs.fit_forecast_run(frame, target=run.target, params=dict(run.params),
                                                        time_budget_s=run.time_budget_s, model_dir=workdir / "model",
                                                        note=note, progress=report)
            runtime.store.put_dir(key, workdir / "model")
            published = True
            return _record_forecast(session, run_id, forecasted, key=key, note=note)
        engine, train, test = _fit(session, runtime=runtime, run=run, note=note, report=report)
        report(0.88, "evaluating on the test split")
        result, test_metrics = _evaluate(engine, run, test, note=note)
        model_dir: Path | None = None
        if engine.registrable:
            report(0.95, "saving the model")
            model_dir = workdir / "model"
            engine.save(model_dir, metrics=test_metrics)
            _save_drift_reference(engine, train, model_dir, target=run.target, note=note)
            runtime.store.put_dir(key, model_dir)
            published = True
        return _record_success(session, run_id=run_id, engine=engine, result=result, test_metrics=test_metrics,
                               model_dir=model_dir, key=key, note=note, store=runtime.store)
    except BaseException as exc:
        session.rollback()
        if published:
            runtime.store.delete(key)
        detail = exc.detail if isinstance(exc, MlpilotError) else f"{type(exc).__name__}: {exc}"
        note(f"failed: {detail}")
        _set_status(session, run_id, status=RunStatus.failed, error=detail[:4000], finished_at=utcnow(),
                    duration_s=round(note.elapsed(), 3), logs=note.text()[-50_000:])
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _fit(session: Session, *, runtime: Runtime, run: Run, note: _RunLog,
         report: Any) -> tuple[Engine, pl.DataFrame, pl.DataFrame]:
    """Read the dataset version, split it and fit the run's engine on the train split."""
    frame = datasets_service.read_dataset_version_frame(session, store=runtime.store,
                                                        version_id=run.dataset_version_id)
    train, test = split_for_evaluation(frame, target=run.target, task=run.task)
    if train.height < MIN_TRAIN_ROWS:
        raise InvalidInput(f"Training needs at least {MIN_TRAIN_ROWS} rows with a value in {run.target!r} after "
                           f"holding out {TEST_FRACTION:.0%} for the test split; the dataset has "
                           f"{train.height + test.height} ({train.height} left to train on).")
    note(f"{frame.height} rows: {train.height} to train on, {test.height} held out for the test split")
    engine = _engine_for(session, runtime, run)
    note(f"fitting engine {run.engine!r} for up to {run.time_budget_s:g} s"
         + (f", optimising {run.metric}" if run.metric else ""))

    def fit_progress(fraction: float, message: str) -> None:
        report(0.05 + 0.8 * max(0.0, min(1.0, fraction)), message)

    fit_kwargs: dict[str, Any] = {"target": run.target, "task": run.task, "time_budget_s": run.time_budget_s,
                                  "progress": fit_progress, "seed": 0}
    if run.metric:
        fit_kwargs["metric"] = run.metric
    engine.fit(train, **fit_kwargs)
    note(f"fitted in {note.elapsed():.1f} s")
    for warning in engine.warnings_:
        note(f"warning: {warning}")
    signature = getattr(engine, "signature_", None)
    if signature is not None and run.dataset_version_id is not None:
        for warning in blank_warnings(session, dataset_version_id=run.dataset_version_id, signature=signature):
            note(f"warning: {warning}")
    return engine, train, test


def _evaluate(engine: Engine, run: Run, test: pl.DataFrame, *,
              note: _RunLog) -> tuple[dict[str, Any], dict[str, Any]]:
    """Evaluate the fitted engine on the held-out split; return the evaluation and the test metrics."""
    classes = list(engine.classes_) if engine.classes_ is not None else None
    external = run.engine == "http"  # each prediction is a network call: fewer permutation repeats and rows
    result = evaluation.evaluate_model(engine, test, target=run.target, task=run.task, classes=classes,
                                       sensitive_column=run.sensitive_column, positive_class=run.positive_class,
                                       repeats=1 if external else 3, importance_rows=300 if external else 1000)
    for warning in result["warnings"]:
        note(f"warning: {warning}")
    test_metrics = dict(result.pop("metrics"))
    test_metrics["test_rows"] = result["test_rows"]
    note("test split: " + ", ".join(f"{k}={v:.4g}" for k, v in test_metrics.items() if isinstance(v, float)))
    if engine.leaderboard_:
        result["candidates"] = [dict(candidate) for candidate in engine.leaderboard_[:50]]
    return result, test_metrics


def _record_success(session: Session, *, run_id: int, engine: Engine, result: dict[str, Any],
                    test_metrics: dict[str, Any], model_dir: Path | None, key: str, note: _RunLog,
                    store: ArtifactStore | None = None) -> Run:
    """Store the outcome on the run and register it when the engine's model can be served."""
    validation = dict(engine.metrics_ or {})
    folds = validation.pop("folds", None) or []
    validation.pop("leaderboard", None)
    with unit_of_work(session):
        run = get_run(session, run_id=run_id)
        metric_name, metric_value = run_metrics.primary_metric(run.task, test_metrics)
        if run.metric and test_metrics.get(run.metric) is not None:
            metric_name, metric_value = run.metric, test_metrics[run.metric]
        run.status = RunStatus.succeeded
        run.metrics = test_metrics
        run.validation_metrics = validation
        run.fold_metrics = list(folds)
        run.evaluation = result
        run.library_versions = _versions(engine, model_dir, run.engine)
        run.params = {**run.params, "chosen": dict(engine.best_params_),
                      "tried": [dict(trial) for trial in engine.trials_]}
        run.primary_metric, run.primary_metric_value = metric_name, metric_value
        run.artifact_key = key if engine.registrable else None
        run.flavor = engine.flavor
        run.signature = engine.signature_.to_dict()
        run.duration_s = round(note.elapsed(), 3)
        run.finished_at = utcnow()
        note(f"done: {metric_name} = {metric_value}")
        why = registration_decision(session, run=run) if engine.registrable else None
        registered = None
        if why is not None:
            model_version = register_run(session, run_id=run_id, user_id=run.created_by_id, store=store)
            registered = f"registered as {model_version.name} v{model_version.version} ({why})"
        elif engine.registrable:
            registered = "not registered: the project registers the best run only or the run a person picks"
        if registered is not None:
            # Kept in the run's log now; the job's log (another transaction) hears of it after this one commits.
            note.lines.append(f"[{note.elapsed():7.1f}s] {registered}")
        run.logs = note.text()
    if registered is not None and note.sink is not None:
        note.sink(registered)
    return run


def _record_forecast(session: Session, run_id: int, result: forecast_runs.ForecastRunResult, *, key: str,
                     note: _RunLog) -> Run:
    """A forecasting run's outcome. It is not registered: the registry and serving do not load forecasters yet."""
    with unit_of_work(session):
        run = get_run(session, run_id=run_id)
        run.status = RunStatus.succeeded
        run.metrics = dict(result.metrics)
        run.validation_metrics = dict(result.backtest)
        run.evaluation = {"forecast_charts": result.charts, "candidates": result.candidates}
        run.library_versions = {"python": platform.python_version(),
                                **library_versions("numpy", "polars", "lightgbm")}
        run.params = {**run.params, "chosen": {"members": list(result.model.members)},
                      "frequency": result.model.panel.axis.frequency.label()}
        run.primary_metric, run.primary_metric_value = "mase", result.metrics["mase"]
        run.artifact_key = key
        run.flavor = output_flavor()
        run.duration_s = round(note.elapsed(), 3)
        run.finished_at = utcnow()
        note(f"done: mase = {result.metrics['mase']:.4g} ({' + '.join(result.model.members)})")
        run.logs = note.text()
    return run


def output_flavor() -> str:
    from mlpilot.training.forecasting.output import FLAVOR

    return FLAVOR


@job_handler(FIT_JOB)
def _run_fit_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.02, "reading data", force=True)
    with session_scope(ctx.runtime.sessions) as session:
        run = fit_run(session, runtime=ctx.runtime, run_id=int(params["run_id"]),
                      progress=lambda fraction, message: ctx.progress(fraction, message), log=ctx.log)
        return {"run_id": run.id, "metric": run.primary_metric, "value": run.primary_metric_value}



@on_job_interrupted(FIT_JOB)
def _fit_job_interrupted(session: Session, job: Job) -> None:
    """The run fails with the job's reason (e.g. the server restarted mid-fit); its work folder was a temporary
    directory and a model is only published at the very end, so nothing partial is left."""
    run_id = job.params.get("run_id")
    run = session.get(Run, run_id) if isinstance(run_id, int) else None
    if run is not None and run.status in ACTIVE:
        run.status, run.error, run.finished_at = RunStatus.failed, job.error, job.finished_at or utcnow()
