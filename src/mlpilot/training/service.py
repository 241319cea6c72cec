"""Use cases of the training domain: validate and start a run, train it in a job, rank the results."""

from __future__ import annotations

import importlib.util
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlpilot.core import jobs
from mlpilot.core.db import session_scope, unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, MlpilotError, NotFound
from mlpilot.core.jobs import JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.core.secrets import masked, seal_values, unseal_values
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.registry import service as registry_service
from mlpilot.registry.models import ModelVersion
from mlpilot.training import evaluation
from mlpilot.training import metrics as run_metrics
from mlpilot.training.engines import engines
from mlpilot.training.engines.base import engine_capabilities
from mlpilot.training.models import Experiment, ExternalEngine, Run, RunStatus
from mlpilot.training.preparation import library_versions
from mlpilot.training.tasks import TASK_CHOICES, resolve_task

FIT_JOB = "training.fit"
MAX_BUDGET_S = 3600
ACTIVE = (RunStatus.queued, RunStatus.running)
DEFAULT_EXPERIMENT = "Default"
# Share of the dataset version held out (seeded, stratified) to evaluate every run on the same rows.
TEST_FRACTION = 0.2
MIN_TRAIN_ROWS = 10
MAX_TAGS = 20
TASK_METRICS = {
    "binary": ("roc_auc", "log_loss", "accuracy", "f1"),
    "multiclass": ("log_loss", "accuracy", "f1_macro"),
    "regression": ("rmse", "mae", "r2"),
}
# Libraries behind each built-in engine (peer adapters declare `requires`).
ENGINE_LIBRARIES = {
    "lightgbm": ("lightgbm", "scikit-learn"),
    "auto": ("lightgbm", "catboost", "xgboost", "optuna", "scikit-learn"),
    "flaml": ("flaml", "lightgbm", "scikit-learn"),
    "autogluon": ("autogluon.tabular",),
    "http": ("httpx",),
}


def _reconcile(session: Session, runs: list[Run]) -> None:
    """Mark runs failed whose job died outside the training code (e.g. the server restarted mid-run)."""
    stale = []
    for run in runs:
        if run.status in ACTIVE and run.job_id is not None:
            job = session.get(jobs.Job, run.job_id)
            if job is not None and job.state == jobs.JobState.failed:
                stale.append((run, job))
    if stale:
        with unit_of_work(session):
            for run, job in stale:
                run.status, run.error, run.finished_at = RunStatus.failed, job.error, job.finished_at or utcnow()


def get_run(session: Session, *, run_id: int) -> Run:
    """Return run `run_id`."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"Run {run_id} does not exist.")
    _reconcile(session, [run])
    return run


def register_run(session: Session, *, run_id: int, user_id: int | None, name: str | None = None) -> ModelVersion:
    """Register the model of a succeeded run in the registry as the next version of `name`."""
    run = get_run(session, run_id=run_id)
    if run.status != RunStatus.succeeded or not run.artifact_key or run.signature is None:
        raise InvalidInput(f"Run {run_id} is {run.status}; only a succeeded run with a saved model can be registered.")
    model = registry_service.RunModel(
        run_id=run.id, project_id=run.project_id, dataset_version_id=run.dataset_version_id, target=run.target,
        task=run.task, engine=run.engine, flavor=run.flavor or "lightgbm", artifact_key=run.artifact_key,
        signature=dict(run.signature), metrics=dict(run.metrics), finished_at=run.finished_at)
    return registry_service.register_run_model(session, model, user_id=user_id, name=name)


def list_runs(session: Session, *, project_id: int) -> list[Run]:
    """Return the project's runs, newest first."""
    runs = list(session.scalars(select(Run).where(Run.project_id == project_id).order_by(Run.id.desc())))
    _reconcile(session, runs)
    return runs


def default_engine() -> str:
    """The engine new runs use unless told: the built-in AutoML engine when installed, else LightGBM."""
    return "auto" if "auto" in engines.names() else "lightgbm"


# Engines -------------------------------------------------------------------------------------------------------

def _installed(cls: Any) -> tuple[bool, str | None]:
    for module in getattr(cls, "requires", ()):
        if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
            extra = getattr(cls, "extra", "")
            hint = f" (pip install 'mlpilot[{extra}]')" if extra else ""
            return False, f"{module} is not installed{hint}"
    return True, None


def list_engines() -> list[dict[str, Any]]:
    """Every engine registered under the `mlpilot.engines` entry points: capabilities, installed state, versions."""
    found = []
    for name in engines.names():
        cls = engines.get(name)
        installed, reason = _installed(cls)
        libraries = ENGINE_LIBRARIES.get(name) or tuple(getattr(cls, "requires", ()))
        found.append({
            "name": name,
            "description": getattr(cls, "description", None) or (cls.__doc__ or "").strip().split("\n")[0],
            "flavor": getattr(cls, "flavor", None), "capabilities": sorted(engine_capabilities(cls)),
            "installed": installed, "status": "installed" if installed else "not installed", "reason": reason,
            "libraries": library_versions(*libraries), "default": name == default_engine(),
        })
    for name, error in sorted(engines.failures.items()):
        found.append({"name": name, "description": None, "flavor": None, "capabilities": [], "installed": False,
                      "status": "broken", "reason": error, "libraries": {}, "default": False})
    return found


# Experiments ---------------------------------------------------------------------------------------------------

def get_or_create_experiment(session: Session, *, project_id: int, name: str | None,
                             user_id: int | None = None) -> Experiment:
    """Return the project's experiment called `name` (the default one when empty), creating it if needed."""
    name = (name or "").strip() or DEFAULT_EXPERIMENT
    if len(name) > 200:
        raise InvalidInput("An experiment name has at most 200 characters.")
    query = select(Experiment).where(Experiment.project_id == project_id, Experiment.name == name)
    found = session.scalar(query)
    if found is None:
        try:
            with unit_of_work(session):
                found = Experiment(project_id=project_id, name=name, description="", created_by_id=user_id)
                session.add(found)
        except IntegrityError:  # created at the same moment by another request: use theirs
            session.rollback()
            found = session.scalars(query).one()
    return found


def list_experiments(session: Session, *, project_id: int) -> list[dict[str, Any]]:
    """The project's experiments with their run counts and best run, newest first."""
    experiments = list(session.scalars(select(Experiment).where(Experiment.project_id == project_id)
                                       .order_by(Experiment.id.desc())))
    runs = list_runs(session, project_id=project_id)
    ranked = leaderboard(session, project_id=project_id)
    result = []
    for experiment in experiments:
        mine = [r for r in runs if r.experiment_id == experiment.id]
        board = [r for r in ranked if r.experiment_id == experiment.id]
        result.append({"id": experiment.id, "name": experiment.name, "description": experiment.description,
                       "runs": len(mine), "best_run_id": board[0].id if board else None,
                       "created_at": experiment.created_at})
    return result


def experiment_names(session: Session, *, project_id: int) -> dict[int, str]:
    """Experiment id → name for a project."""
    rows = session.execute(select(Experiment.id, Experiment.name).where(Experiment.project_id == project_id))
    return {row.id: row.name for row in rows}


# External HTTP engines -----------------------------------------------------------------------------------------

def create_external_engine(session: Session, *, runtime: Runtime, project_id: int, config: dict[str, Any],
                           secret_headers: dict[str, str] | None = None,
                           user_id: int | None = None) -> ExternalEngine:
    """Record a vendor model reached over HTTP; secret header values are encrypted like connection secrets."""
    from mlpilot.dataplane.routing import check_external_config

    projects_service.get_project(session, project_id=project_id)
    secret_headers = dict(secret_headers or {})
    if not all(isinstance(v, str) for v in secret_headers.values()):
        raise InvalidInput("'secret_headers' must be an object of strings (e.g. {\"Authorization\": \"Bearer …\"}).")
    checked = check_external_config(config)
    runtime.allowlist.outbound_url(checked["url"], field_name="url")
    overlap = sorted(set(checked["headers"]) & set(secret_headers))
    if overlap:
        raise InvalidInput(f"Header {overlap[0]!r} is given both as a plain and a secret header; give it once.")
    if session.scalar(select(ExternalEngine).where(ExternalEngine.project_id == project_id,
                                                   ExternalEngine.name == checked["name"])) is not None:
        raise Conflict(f"An external engine named {checked['name']!r} already exists in this project.")
    with unit_of_work(session):
        external = ExternalEngine(project_id=project_id, name=checked["name"], config=checked,
                                  secrets_encrypted=seal_values(runtime.settings, secret_headers),
                                  created_by_id=user_id)
        session.add(external)
        session.flush()
    return external


def get_external_engine(session: Session, *, external_engine_id: int) -> ExternalEngine:
    external = session.get(ExternalEngine, external_engine_id)
    if external is None:
        raise NotFound(f"External engine {external_engine_id} does not exist.")
    return external


def delete_external_engine(session: Session, *, project_id: int, external_engine_id: int) -> None:
    """Forget an external engine (its finished runs keep their results; queued ones will fail clearly)."""
    external = get_external_engine(session, external_engine_id=external_engine_id)
    if external.project_id != project_id:
        raise NotFound(f"External engine {external_engine_id} does not exist in this project.")
    with unit_of_work(session):
        session.delete(external)


def list_external_engines(session: Session, *, project_id: int) -> list[ExternalEngine]:
    return list(session.scalars(select(ExternalEngine).where(ExternalEngine.project_id == project_id)
                                .order_by(ExternalEngine.id)))


def describe_external_engine(session: Session, external: ExternalEngine, runtime: Runtime) -> dict[str, Any]:
    """Plain fields of an external engine, secret header values masked."""
    secrets = unseal_values(runtime.settings, external.secrets_encrypted,
                            what=f"headers of external engine {external.name!r}")
    return {"id": external.id, "project_id": external.project_id, "name": external.name,
            "config": dict(external.config), "secret_headers": masked(secrets),
            "created_at": external.created_at}


def resolve_external_config(session: Session, *, runtime: Runtime, external_engine_id: int,
                            project_id: int) -> dict[str, Any]:
    """The full configuration an HttpEngine needs, secret headers decrypted."""
    external = get_external_engine(session, external_engine_id=external_engine_id)
    if external.project_id != project_id:
        raise InvalidInput(f"External engine {external_engine_id} belongs to another project.")
    config = dict(external.config)
    config["headers"] = {**config.get("headers", {}), **unseal_values(
        runtime.settings, external.secrets_encrypted, what=f"headers of external engine {external.name!r}")}
    return config


# Runs ----------------------------------------------------------------------------------------------------------

def create_run(session: Session, *, runtime: Runtime, project_id: int, dataset_version_id: int, target: str,
               task: str = "auto", time_budget_s: float = 60.0, engine: str | None = None,
               user_id: int | None = None, params: dict[str, Any] | None = None, metric: str | None = None,
               sensitive_column: str | None = None, positive_class: str | None = None,
               experiment: str | None = None, tags: list[str] | None = None, notes: str = "",
               external_engine_id: int | None = None) -> Run:
    """Check the request against the data, record a queued run and start its training job."""
    projects_service.get_project(session, project_id=project_id)
    engine = engine or default_engine()
    engine_cls = engines.get(engine)
    installed, reason = _installed(engine_cls)
    if not installed:
        raise InvalidInput(f"Engine {engine!r} cannot run here: {reason}.")
    params = dict(params or {})
    if engine == "http":
        external_engine_id = external_engine_id or params.get("external_engine_id")
        if not external_engine_id:
            raise InvalidInput("Engine 'http' needs external_engine_id: create the vendor's endpoint first "
                               "(POST /api/v1/projects/{id}/external-engines).")
        external = get_external_engine(session, external_engine_id=int(external_engine_id))
        if external.project_id != project_id:
            raise InvalidInput(f"External engine {external_engine_id} belongs to another project.")
        params = {"external_engine_id": external.id, "external_engine": external.name}
    elif external_engine_id:
        raise InvalidInput("external_engine_id is only used with engine 'http'.")
    if task not in TASK_CHOICES:
        raise InvalidInput(f"Unknown task {task!r}; expected one of: {', '.join(TASK_CHOICES)}.")
    if not 0 < time_budget_s <= MAX_BUDGET_S:
        raise InvalidInput(f"time_budget_s must be more than 0 and at most {MAX_BUDGET_S} seconds; "
                           f"got {time_budget_s}.")
    version = datasets_service.get_dataset_version(session, version_id=dataset_version_id)
    if version.dataset.project_id != project_id:
        raise InvalidInput(f"Dataset version {dataset_version_id} belongs to another project; "
                           "pick a dataset version of this project.")
    columns = [c["name"] for c in version.schema]
    if target not in columns:
        raise InvalidInput(f"Target column {target!r} is not in dataset {version.dataset.name!r} "
                           f"v{version.version}; columns are: {', '.join(columns)}.")
    if len(columns) < 2:
        raise InvalidInput(f"Dataset {version.dataset.name!r} has only the target column; add feature columns.")
    sensitive_column = (sensitive_column or "").strip() or None
    if sensitive_column is not None:
        if sensitive_column == target:
            raise InvalidInput("The sensitive column must not be the target; pick e.g. a gender or region column.")
        if sensitive_column not in columns:
            raise InvalidInput(f"Sensitive column {sensitive_column!r} is not in dataset {version.dataset.name!r} "
                               f"v{version.version}; columns are: {', '.join(columns)}.")
    series = datasets_service.read_dataset_version_frame(session, store=runtime.store, version_id=version.id,
                                                         columns=[target])[target]
    task, _ = resolve_task(series, target=target, task=task)
    positive_class = (positive_class or "").strip() or None
    if positive_class is not None:
        if task == "regression":
            raise InvalidInput("positive_class is only for classification; a regression run measures fairness as "
                               "per-group errors.")
        values = sorted({str(v) for v in series.drop_nulls().to_list()})
        if positive_class not in values:
            raise InvalidInput(f"positive_class {positive_class!r} is not a value of target {target!r}; "
                               f"its values are: {', '.join(values[:50])}.")
    metric = (metric or "").strip() or None
    if metric is not None and metric not in TASK_METRICS[task]:
        raise InvalidInput(f"Metric {metric!r} does not fit task {task!r}; choose one of: "
                           f"{', '.join(TASK_METRICS[task])}.")
    tags = clean_tags(tags or [])
    chosen = get_or_create_experiment(session, project_id=project_id, name=experiment, user_id=user_id)
    with unit_of_work(session):
        run = Run(project_id=project_id, experiment_id=chosen.id, dataset_version_id=version.id, target=target,
                  task=task, engine=engine, metric=metric, sensitive_column=sensitive_column,
                  positive_class=positive_class, params=params,
                  metrics={}, status=RunStatus.queued, time_budget_s=float(time_budget_s), tags=tags,
                  notes=(notes or "")[:20_000], created_by_id=user_id)
        session.add(run)
        session.flush()
        job = jobs.create_job(session, runtime=runtime, kind=FIT_JOB, params={"run_id": run.id}, user_id=user_id,
                              project_id=project_id, message="training queued")
        run.job_id = job.id
    return run


def clean_tags(tags: list[str]) -> list[str]:
    """Trimmed, de-duplicated tags (order kept); each at most 50 characters, at most 20 tags."""
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise InvalidInput("Tags must be strings.")
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > 50:
            raise InvalidInput(f"Tag {tag[:20]!r}… is longer than 50 characters.")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"A run has at most {MAX_TAGS} tags; got {len(cleaned)}.")
    return cleaned


def update_run(session: Session, *, run_id: int, tags: list[str] | None = None, notes: str | None = None,
               add_tags: list[str] | None = None, remove_tags: list[str] | None = None) -> Run:
    """Edit a run's tags and notes (the only things editable after creation)."""
    run = get_run(session, run_id=run_id)
    with unit_of_work(session):
        if tags is not None:
            run.tags = clean_tags(tags)
        if add_tags or remove_tags:
            drop = set(clean_tags(remove_tags or []))
            run.tags = clean_tags([t for t in run.tags if t not in drop] + list(add_tags or []))
        if notes is not None:
            if len(notes) > 20_000:
                raise InvalidInput("Notes are at most 20,000 characters.")
            run.notes = notes
    return run


def _set_status(session: Session, run_id: int, **values: Any) -> None:
    with unit_of_work(session):
        run = get_run(session, run_id=run_id)
        for key, value in values.items():
            setattr(run, key, value)


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


def _versions(engine: Any, model_dir: Path | None, name: str) -> dict[str, Any]:
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
    found.update(getattr(engine, "library_versions_", None) or {})
    return found


def _save_drift_reference(engine: Any, train: pl.DataFrame, model_dir: Path, *, target: str, note: Any) -> None:
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


def fit_run(session: Session, *, runtime: Runtime, run_id: int, progress: Any = None, log: Any = None) -> Run:
    """Train a queued run on the train split, evaluate it on the held-out test split, store and register it.

    On failure record why (and the log so far) and keep nothing.
    """
    run = get_run(session, run_id=run_id)
    if run.status != RunStatus.queued:
        raise InvalidInput(f"Run {run_id} is {run.status}; only a queued run can be trained.")
    _set_status(session, run_id, status=RunStatus.running)
    started = time.monotonic()
    key = f"runs/{run_id}/model"
    published = False
    workdir = Path(tempfile.mkdtemp(prefix="mlpilot-run-"))
    lines: list[str] = []
    report = progress or (lambda fraction, message: None)

    def note(line: str) -> None:
        lines.append(f"[{time.monotonic() - started:7.1f}s] {line}")
        if log is not None:
            log(line)

    try:
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
        fit_seconds = time.monotonic() - started
        note(f"fitted in {fit_seconds:.1f} s")
        for warning in getattr(engine, "warnings_", None) or []:
            note(f"warning: {warning}")
        report(0.88, "evaluating on the test split")
        classes = list(engine.classes_) if engine.classes_ is not None else None
        repeats = 1 if run.engine == "http" else 3
        result = evaluation.evaluate_model(engine, test, target=run.target, task=run.task, classes=classes,
                                           sensitive_column=run.sensitive_column,
                                           positive_class=run.positive_class, repeats=repeats,
                                           importance_rows=300 if run.engine == "http" else 1000)
        for warning in result["warnings"]:
            note(f"warning: {warning}")
        test_metrics = dict(result.pop("metrics"))
        test_metrics["test_rows"] = result["test_rows"]
        note("test split: " + ", ".join(f"{k}={v:.4g}" for k, v in test_metrics.items()
                                          if isinstance(v, float)))
        validation = dict(engine.metrics_ or {})
        folds = validation.pop("folds", None) or []
        validation.pop("leaderboard", None)
        model_dir: Path | None = None
        registrable = getattr(engine, "registrable", True)
        if registrable:
            report(0.95, "saving the model")
            model_dir = workdir / "model"
            engine.save(model_dir, metrics=test_metrics)
            _save_drift_reference(engine, train, model_dir, target=run.target, note=note)
            runtime.store.put_dir(key, model_dir)
            published = True
        metric_name, metric_value = run_metrics.primary_metric(run.task, test_metrics)
        if run.metric and test_metrics.get(run.metric) is not None:
            metric_name, metric_value = run.metric, test_metrics[run.metric]
        candidates = getattr(engine, "leaderboard_", None)
        if candidates:
            result["candidates"] = candidates[:50]
        with unit_of_work(session):
            run = get_run(session, run_id=run_id)
            run.status = RunStatus.succeeded
            run.metrics = test_metrics
            run.validation_metrics = validation
            run.fold_metrics = list(folds)
            run.evaluation = result
            run.library_versions = _versions(engine, model_dir, run.engine)
            run.params = {**run.params, "chosen": getattr(engine, "best_params_", {}),
                          "tried": getattr(engine, "trials_", [])}
            run.primary_metric, run.primary_metric_value = metric_name, metric_value
            run.artifact_key = key if registrable else None
            run.flavor = engine.flavor
            run.signature = engine.signature_.to_dict()
            run.duration_s = round(time.monotonic() - started, 3)
            run.finished_at = utcnow()
            note(f"done: {metric_name} = {metric_value}")
            run.logs = "\n".join(lines)
            if registrable:
                register_run(session, run_id=run_id, user_id=run.created_by_id)
        return run
    except BaseException as exc:
        session.rollback()
        if published:
            runtime.store.delete(key)
        detail = exc.detail if isinstance(exc, MlpilotError) else f"{type(exc).__name__}: {exc}"
        note(f"failed: {detail}")
        _set_status(session, run_id, status=RunStatus.failed, error=detail[:4000], finished_at=utcnow(),
                    duration_s=round(time.monotonic() - started, 3), logs="\n".join(lines)[-50_000:])
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@job_handler(FIT_JOB)
def _run_fit_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.02, "reading data", force=True)
    with session_scope(ctx.runtime.sessions) as session:
        run = fit_run(session, runtime=ctx.runtime, run_id=int(params["run_id"]),
                      progress=lambda fraction, message: ctx.progress(fraction, message), log=ctx.log)
        return {"run_id": run.id, "metric": run.primary_metric, "value": run.primary_metric_value}


def leaderboard(session: Session, *, project_id: int, task: str | None = None) -> list[Run]:
    """Return succeeded runs ranked best first by their primary metric, per task (newest task first)."""
    stmt = select(Run).where(Run.project_id == project_id, Run.status == RunStatus.succeeded,
                             Run.primary_metric_value.is_not(None))
    if task is not None:
        stmt = stmt.where(Run.task == task)
    runs = list(session.scalars(stmt.order_by(Run.id.desc())))
    task_order = {t: i for i, t in reversed(list(enumerate(r.task for r in runs)))}

    def key(run: Run) -> tuple[int, float, int]:
        value = run.primary_metric_value or 0.0
        return (task_order[run.task], -value if run_metrics.higher_is_better(run.primary_metric or "") else value,
                -run.id)

    return sorted(runs, key=key)


def describe_dataset(session: Session, *, run: Run) -> str:
    """Return 'name vN' for the dataset version a run used."""
    version = datasets_service.get_dataset_version(session, version_id=run.dataset_version_id)
    return f"{version.dataset.name} v{version.version}"


def leaderboard_entries(session: Session, *, project_id: int, task: str | None = None) -> list[dict[str, Any]]:
    """Return the leaderboard as plain rows, ranked within each task."""
    entries: list[dict[str, Any]] = []
    ranks: dict[str, int] = {}
    names = experiment_names(session, project_id=project_id)
    for run in leaderboard(session, project_id=project_id, task=task):
        ranks[run.task] = ranks.get(run.task, 0) + 1
        metric = run.primary_metric or ""
        entries.append({
            "rank": ranks[run.task], "run_id": run.id, "engine": run.engine, "task": run.task, "target": run.target,
            "metric_name": metric, "metric_value": run.primary_metric_value,
            "higher_is_better": run_metrics.higher_is_better(metric), "metrics": dict(run.metrics),
            "duration_s": run.duration_s, "dataset": describe_dataset(session, run=run),
            "experiment": names.get(run.experiment_id or 0), "tags": list(run.tags or []),
        })
    return entries


def project_summary(session: Session, *, project_id: int) -> dict[str, Any]:
    """Summarise the project's leaderboard and best run (for reports)."""
    keys = ("run_id", "engine", "task", "target", "metric_name", "metric_value", "metrics", "duration_s", "dataset")
    entries = [{k: entry[k] for k in keys} for entry in leaderboard_entries(session, project_id=project_id)]
    return {"leaderboard": entries, "best": entries[0] if entries else None}


# Comparison ----------------------------------------------------------------------------------------------------

COLORS = ("#2f5bea", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")


def get_runs(session: Session, *, run_ids: list[int]) -> list[Run]:
    """The runs `run_ids` in the given order (NotFound names the first missing one)."""
    return [get_run(session, run_id=run_id) for run_id in run_ids]


def compare_runs(session: Session, *, run_ids: list[int]) -> dict[str, Any]:
    """Side-by-side view of 2+ runs of one project: their settings, every metric and Chart.js chart configs."""
    unique = list(dict.fromkeys(int(r) for r in run_ids))
    if len(unique) < 2:
        raise InvalidInput("Pick at least two different runs to compare.")
    if len(unique) > len(COLORS):
        raise InvalidInput(f"Compare at most {len(COLORS)} runs at a time.")
    runs = get_runs(session, run_ids=unique)
    if len({r.project_id for r in runs}) > 1:
        raise InvalidInput("Runs of different projects cannot be compared; pick runs of one project.")
    metric_names = sorted({k for r in runs for k, v in r.metrics.items() if isinstance(v, int | float)
                           and k != "test_rows"})
    rows = [{"metric": name, "higher_is_better": run_metrics.higher_is_better(name),
             "values": [r.metrics.get(name) for r in runs]} for name in metric_names]
    for row in rows:
        known = [v for v in row["values"] if v is not None]
        best = (max(known) if row["higher_is_better"] else min(known)) if known else None
        row["best"] = [v is not None and v == best for v in row["values"]]
    labels = [f"#{r.id} {r.engine}" for r in runs]
    charts: dict[str, Any] = {}
    bounded = [n for n in metric_names if n in ("roc_auc", "accuracy", "f1", "f1_macro", "r2")]
    if metric_names:
        charts["metrics"] = {
            "type": "bar",
            "data": {"labels": metric_names,
                     "datasets": [{"label": labels[i], "backgroundColor": COLORS[i],
                                   "data": [r.metrics.get(n) for n in metric_names]} for i, r in enumerate(runs)]},
            "options": {"plugins": {"title": {"display": True, "text": "Test-split metrics"}}},
        }
    if len(bounded) >= 3:  # a radar needs three axes
        charts["bounded"] = {
            "type": "radar",
            "data": {"labels": bounded,
                     "datasets": [{"label": labels[i], "borderColor": COLORS[i], "fill": False,
                                   "data": [r.metrics.get(n) for n in bounded]} for i, r in enumerate(runs)]},
            "options": {"scales": {"r": {"min": 0, "max": 1}}},
        }
    curves = [(i, r.evaluation.get("calibration")) for i, r in enumerate(runs) if r.evaluation.get("calibration")]
    if curves:
        datasets = [{"label": "perfect", "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}], "borderColor": "#9ca3af",
                     "borderDash": [4, 4], "showLine": True, "pointRadius": 0}]
        datasets += [{"label": labels[i], "borderColor": COLORS[i], "showLine": True,
                      "data": [{"x": p["predicted"], "y": p["observed"]} for p in curve]} for i, curve in curves]
        charts["calibration"] = {"type": "scatter", "data": {"datasets": datasets},
                                 "options": {"scales": {"x": {"min": 0, "max": 1, "title": {"display": True,
                                                                                          "text": "predicted"}},
                                                        "y": {"min": 0, "max": 1, "title": {"display": True,
                                                                                          "text": "observed"}}}}}
    features = []
    for r in runs:
        for name in (r.evaluation.get("permutation_importance") or {}):
            if name not in features:
                features.append(name)
    if features:
        features = features[:15]
        charts["importance"] = {
            "type": "bar",
            "data": {"labels": features,
                     "datasets": [{"label": labels[i], "backgroundColor": COLORS[i],
                                   "data": [(r.evaluation.get("permutation_importance") or {}).get(f)
                                            for f in features]} for i, r in enumerate(runs)]},
            "options": {"indexAxis": "y", "plugins": {"title": {"display": True, "text": "Permutation importance"}}},
        }
    names = experiment_names(session, project_id=runs[0].project_id)
    summary = [{
        "run_id": r.id, "engine": r.engine, "status": r.status, "task": r.task, "target": r.target,
        "experiment": names.get(r.experiment_id or 0), "dataset": describe_dataset(session, run=r),
        "primary_metric": r.primary_metric, "primary_metric_value": r.primary_metric_value,
        "duration_s": r.duration_s, "time_budget_s": r.time_budget_s, "tags": list(r.tags or []),
        "sensitive_column": r.sensitive_column,
        "positive_class": r.positive_class,
        "fairness": {k: (r.evaluation.get("fairness") or {}).get(k) for k in
                     ("demographic_parity_difference", "equalized_odds_difference", "mean_prediction_difference")
                     if (r.evaluation.get("fairness") or {}).get(k) is not None},
    } for r in runs]
    return {"project_id": runs[0].project_id, "runs": summary, "metrics": rows, "charts": charts}
