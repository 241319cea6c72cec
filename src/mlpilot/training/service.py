"""Use cases of the training domain: validate and start a run, train it in a job, rank the results."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.core import jobs
from mlpilot.core.db import session_scope, unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput, MlpilotError, NotFound
from mlpilot.core.jobs import JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.training import metrics as run_metrics
from mlpilot.training.engines import engines
from mlpilot.training.models import Run, RunStatus
from mlpilot.training.tasks import TASK_CHOICES, resolve_task

FIT_JOB = "training.fit"
MAX_BUDGET_S = 3600
ACTIVE = (RunStatus.queued, RunStatus.running)


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


def list_runs(session: Session, *, project_id: int) -> list[Run]:
    """Return the project's runs, newest first."""
    runs = list(session.scalars(select(Run).where(Run.project_id == project_id).order_by(Run.id.desc())))
    _reconcile(session, runs)
    return runs


def create_run(session: Session, *, runtime: Runtime, project_id: int, dataset_version_id: int, target: str,
               task: str = "auto", time_budget_s: float = 60.0, engine: str = "lightgbm",
               user_id: int | None = None, params: dict[str, Any] | None = None) -> Run:
    """Check the request against the data, record a queued run and start its training job."""
    projects_service.get_project(session, project_id=project_id)
    engines.get(engine)
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
    series = datasets_service.read_dataset_version_frame(session, store=runtime.store, version_id=version.id,
                                                         columns=[target])[target]
    task, _ = resolve_task(series, target=target, task=task)
    with unit_of_work(session):
        run = Run(project_id=project_id, dataset_version_id=version.id, target=target, task=task, engine=engine,
                  params=dict(params or {}), metrics={}, status=RunStatus.queued, time_budget_s=float(time_budget_s),
                  created_by_id=user_id)
        session.add(run)
        session.flush()
        job = jobs.create_job(session, runtime=runtime, kind=FIT_JOB, params={"run_id": run.id}, user_id=user_id,
                              project_id=project_id, message="training queued")
        run.job_id = job.id
    return run


def _set_status(session: Session, run_id: int, **values: Any) -> None:
    with unit_of_work(session):
        run = get_run(session, run_id=run_id)
        for key, value in values.items():
            setattr(run, key, value)


def fit_run(session: Session, *, runtime: Runtime, run_id: int, progress: Any = None) -> Run:
    """Train a queued run, store its model folder and register it; on failure record why and keep nothing."""
    from mlpilot.registry import service as registry_service  # registry reads runs, so import it lazily

    run = get_run(session, run_id=run_id)
    if run.status != RunStatus.queued:
        raise InvalidInput(f"Run {run_id} is {run.status}; only a queued run can be trained.")
    _set_status(session, run_id, status=RunStatus.running)
    started = time.monotonic()
    key = f"runs/{run_id}/model"
    published = False
    workdir = Path(tempfile.mkdtemp(prefix="mlpilot-run-"))
    try:
        frame = datasets_service.read_dataset_version_frame(session, store=runtime.store,
                                                            version_id=run.dataset_version_id)
        engine = engines.get(run.engine)(**run.params)
        engine.fit(frame, target=run.target, task=run.task, time_budget_s=run.time_budget_s,
                   progress=progress, seed=0)
        model_dir = workdir / "model"
        engine.save(model_dir, metrics=engine.metrics_)
        runtime.store.put_dir(key, model_dir)
        published = True
        metric_name, metric_value = run_metrics.primary_metric(run.task, engine.metrics_)
        with unit_of_work(session):
            run = get_run(session, run_id=run_id)
            run.status = RunStatus.succeeded
            run.metrics = engine.metrics_
            run.params = {**run.params, "chosen": getattr(engine, "best_params_", {}),
                          "tried": getattr(engine, "trials_", [])}
            run.primary_metric, run.primary_metric_value = metric_name, metric_value
            run.artifact_key = key
            run.flavor = engine.flavor
            run.signature = engine.signature_.to_dict()
            run.duration_s = round(time.monotonic() - started, 3)
            run.finished_at = utcnow()
            registry_service.register_run(session, run_id=run_id, user_id=run.created_by_id)
        return run
    except BaseException as exc:
        session.rollback()
        if published:
            runtime.store.delete(key)
        detail = exc.detail if isinstance(exc, MlpilotError) else f"{type(exc).__name__}: {exc}"
        _set_status(session, run_id, status=RunStatus.failed, error=detail[:4000], finished_at=utcnow(),
                    duration_s=round(time.monotonic() - started, 3))
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@job_handler(FIT_JOB)
def _run_fit_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.02, "reading data", force=True)
    with session_scope(ctx.runtime.sessions) as session:
        run = fit_run(session, runtime=ctx.runtime, run_id=int(params["run_id"]),
                      progress=lambda fraction, message: ctx.progress(fraction, message))
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
    for run in leaderboard(session, project_id=project_id, task=task):
        ranks[run.task] = ranks.get(run.task, 0) + 1
        metric = run.primary_metric or ""
        entries.append({
            "rank": ranks[run.task], "run_id": run.id, "engine": run.engine, "task": run.task, "target": run.target,
            "metric_name": metric, "metric_value": run.primary_metric_value,
            "higher_is_better": run_metrics.higher_is_better(metric), "metrics": dict(run.metrics),
            "duration_s": run.duration_s, "dataset": describe_dataset(session, run=run),
        })
    return entries


def project_summary(session: Session, *, project_id: int) -> dict[str, Any]:
    """Summarise the project's leaderboard and best run (for reports)."""
    keys = ("run_id", "engine", "task", "target", "metric_name", "metric_value", "metrics", "duration_s", "dataset")
    entries = [{k: entry[k] for k in keys} for entry in leaderboard_entries(session, project_id=project_id)]
    return {"leaderboard": entries, "best": entries[0] if entries else None}
