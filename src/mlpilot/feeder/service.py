"""Use cases of the feeder: define pipelines, start their runs (by hand or on schedule) and execute a run.

A run reads the rows that are new since the pipeline's watermark, applies the recipe, refuses a changed source
schema, writes the next dataset version with lineage, advances the watermark and evaluates the trigger rules —
the version, the watermark and any training run it starts are committed together, so a failure leaves none.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mlpilot.connections import service as connections_service
from mlpilot.core import jobs
from mlpilot.core.db import get_existing, rows_changed, session_scope, unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, MlpilotError, NotFound
from mlpilot.core.jobs import JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.feeder import rules
from mlpilot.feeder import schedule as cron
from mlpilot.feeder.models import ACTIVE, Pipeline, PipelineRun, RunStatus
from mlpilot.projects import service as projects_service
from mlpilot.recipes import service as recipes_service
from mlpilot.training import service as training_service

RUN_JOB = "feeder.run"
MODES = ("append", "replace")
CHUNK_ROWS = 100_000
_UNSET: Any = object()

Log = Callable[[str], None]
Progress = Callable[..., None]


# --- the other domains this one builds on (connections, recipes, training) -------------------------------------

@dataclass
class Source:
    """An opened connection: what lineage records about it, and the connector that reads it."""

    name: str
    kind: str
    settings: dict[str, Any]
    connector: Any


def _check_connection(session: Session, *, project_id: int, connection_id: int) -> Any:
    try:
        connection = connections_service.get_connection(session, connection_id=connection_id)
    except NotFound:
        raise InvalidInput(f"Field 'connection_id': connection {connection_id} does not exist; pick one of this "
                           f"project's connections (GET /api/v1/projects/{project_id}/connections).") from None
    if connection.project_id != project_id:
        raise InvalidInput(f"Field 'connection_id': connection {connection_id} belongs to another project; pick "
                           f"one of this project's connections (GET /api/v1/projects/{project_id}/connections).")
    return connection


def _open_source(session: Session, *, runtime: Runtime, connection_id: int) -> Source:
    connection = connections_service.get_connection(session, connection_id=connection_id)
    connector = connections_service.open_connector(session, runtime=runtime, connection_id=connection_id)
    return Source(name=connection.name, kind=connection.kind, settings=dict(connection.settings or {}),
                  connector=connector)


def _check_recipe_version(session: Session, *, project_id: int, recipe_version_id: int) -> dict[str, Any]:
    try:
        version = recipes_service.get_recipe_version(session, recipe_version_id=recipe_version_id)
    except NotFound:
        raise InvalidInput(f"Field 'recipe_version_id': recipe version {recipe_version_id} does not exist.") from None
    recipe = version.recipe
    if recipe.project_id != project_id:
        raise InvalidInput(f"Field 'recipe_version_id': recipe version {recipe_version_id} belongs to another "
                           "project; pick a recipe of this project.")
    return {"id": version.id, "name": recipe.name, "version": version.version}


def _apply_recipe(session: Session, *, recipe_version_id: int, frame: pl.LazyFrame) -> pl.LazyFrame:
    applied, _reports = recipes_service.apply_recipe_frame(session, recipe_version_id=recipe_version_id, frame=frame)
    return applied


def _start_training(session: Session, *, runtime: Runtime, project_id: int, version_id: int,
                    train: rules.TrainRequest, user_id: int | None) -> int:
    run = training_service.create_run(session, runtime=runtime, project_id=project_id, dataset_version_id=version_id,
                                      target=train.target, task=train.task, time_budget_s=train.time_budget_s,
                                      engine=train.engine, user_id=user_id)
    return run.id


# --- pipelines ------------------------------------------------------------------------------------------------

def get_pipeline(session: Session, *, pipeline_id: int) -> Pipeline:
    """Return pipeline `pipeline_id`."""
    return get_existing(session, Pipeline, pipeline_id, "Pipeline")


def find_pipeline(session: Session, *, project_id: int, name: str) -> Pipeline | None:
    """Return the project's pipeline called `name`, if any."""
    return session.scalar(select(Pipeline).where(Pipeline.project_id == project_id, Pipeline.name == name))


def list_pipelines(session: Session, *, project_id: int) -> list[Pipeline]:
    """Return the project's pipelines by name."""
    return list(session.scalars(select(Pipeline).where(Pipeline.project_id == project_id).order_by(Pipeline.name)))


def _clean_schedule(value: str | None, timezone: str) -> str | None:
    cron.check_timezone(timezone)
    if value is None or not value.strip():
        return None
    return cron.check_schedule(value)


def _next_run(pipeline: Pipeline) -> Any:
    if not pipeline.enabled or not pipeline.schedule:
        return None
    return cron.next_run_after(pipeline.schedule, utcnow(), timezone=pipeline.timezone)


def create_pipeline(session: Session, *, project_id: int, name: str, connection_id: int, dataset_name: str,
                    user_id: int | None, recipe_version_id: int | None = None, mode: str = "append",
                    schedule: str | None = None, timezone: str = "UTC",
                    triggers: list[dict[str, Any]] | None = None, enabled: bool = True) -> Pipeline:
    """Define a pipeline from a connection (through an optional recipe) into a dataset, with schedule and triggers."""
    projects_service.get_project(session, project_id=project_id)
    name, dataset_name = (name or "").strip(), (dataset_name or "").strip()
    if not name:
        raise InvalidInput("A pipeline needs a name (field 'name').")
    if not dataset_name:
        raise InvalidInput("A pipeline needs the name of the dataset it feeds (field 'dataset_name').")
    if mode not in MODES:
        raise InvalidInput(f"Field 'mode' is {mode!r}; expected one of: {', '.join(MODES)}.")
    expression = _clean_schedule(schedule, timezone)
    clean_triggers = rules.check_triggers(triggers)
    connection = _check_connection(session, project_id=project_id, connection_id=connection_id)
    if mode == "append" and not (connection.settings or {}).get("watermark_column"):
        raise InvalidInput(f"Field 'mode': connection {connection.name!r} has no watermark_column, so every run "
                           "reads all of its rows; appending them would repeat rows. Use mode 'replace', or give "
                           "the connection a watermark column (an id or timestamp that grows).")
    if recipe_version_id is not None:
        _check_recipe_version(session, project_id=project_id, recipe_version_id=recipe_version_id)
    with unit_of_work(session):
        if find_pipeline(session, project_id=project_id, name=name) is not None:
            raise Conflict(f"This project already has a pipeline named {name!r}.")
        pipeline = Pipeline(project_id=project_id, name=name, connection_id=connection_id,
                            recipe_version_id=recipe_version_id, dataset_name=dataset_name, mode=mode,
                            schedule=expression, timezone=timezone, triggers=clean_triggers, enabled=enabled,
                            rows_since_training=0, created_by_id=user_id)
        pipeline.next_run_at = _next_run(pipeline)
        session.add(pipeline)
    return pipeline


def update_pipeline(session: Session, *, pipeline_id: int, enabled: bool | None = None, schedule: Any = _UNSET,
                    timezone: str | None = None, triggers: list[dict[str, Any]] | None = None,
                    recipe_version_id: Any = _UNSET) -> Pipeline:
    """Enable or disable a pipeline, or change its schedule, time zone, triggers or recipe version."""
    with unit_of_work(session):
        pipeline = get_pipeline(session, pipeline_id=pipeline_id)
        if timezone is not None:
            pipeline.timezone = cron.check_timezone(timezone).key
        if schedule is not _UNSET:
            pipeline.schedule = _clean_schedule(schedule, pipeline.timezone)
        if triggers is not None:
            pipeline.triggers = rules.check_triggers(triggers)
        if recipe_version_id is not _UNSET:
            if recipe_version_id is not None:
                _check_recipe_version(session, project_id=pipeline.project_id, recipe_version_id=recipe_version_id)
            pipeline.recipe_version_id = recipe_version_id
        if enabled is not None:
            pipeline.enabled = enabled
        pipeline.next_run_at = _next_run(pipeline)
    return pipeline


# --- runs ----------------------------------------------------------------------------------------------------------

def get_pipeline_run(session: Session, *, run_id: int) -> PipelineRun:
    """Return pipeline run `run_id`."""
    return get_existing(session, PipelineRun, run_id, "Pipeline run")


def list_pipeline_runs(session: Session, *, pipeline_id: int, limit: int = 50) -> list[PipelineRun]:
    """Return the pipeline's runs, newest first."""
    stmt = (select(PipelineRun).where(PipelineRun.pipeline_id == pipeline_id).order_by(PipelineRun.id.desc())
            .limit(limit))
    return list(session.scalars(stmt))


def find_last_run(session: Session, *, pipeline_id: int) -> PipelineRun | None:
    """Return the pipeline's newest run, if any."""
    runs = list_pipeline_runs(session, pipeline_id=pipeline_id, limit=1)
    return runs[0] if runs else None


def get_run_log(session: Session, *, run_id: int) -> str:
    """Return the log lines a run's job wrote."""
    run = get_pipeline_run(session, run_id=run_id)
    if run.job_id is None:
        return ""
    try:
        return jobs.get_job(session, job_id=run.job_id).log
    except NotFound:
        return ""


def _active_run(session: Session, pipeline_id: int) -> PipelineRun | None:
    return session.scalar(select(PipelineRun).where(PipelineRun.pipeline_id == pipeline_id,
                                                    PipelineRun.status.in_(list(ACTIVE))).limit(1))


def start_pipeline_run(session: Session, *, runtime: Runtime, pipeline_id: int, user_id: int | None,
                       reason: str = "manual", scheduled_for: Any = None) -> PipelineRun:
    """Record a queued run of the pipeline and start its `feeder.run` job (one run at a time per pipeline)."""
    with unit_of_work(session):
        pipeline = get_pipeline(session, pipeline_id=pipeline_id)
        active = _active_run(session, pipeline_id)
        if active is not None:
            raise Conflict(f"Pipeline {pipeline.name!r} is already running (run {active.id}, {active.status}); "
                           "wait for it to finish.")
        run = PipelineRun(pipeline_id=pipeline.id, reason=reason, scheduled_for=scheduled_for,
                          status=RunStatus.queued, created_by_id=user_id, message="queued", rows_read=0,
                          rows_written=0, attempts=0)
        session.add(run)
        session.flush()
        job = jobs.create_job(session, runtime=runtime, kind=RUN_JOB, params={"pipeline_run_id": run.id},
                              user_id=user_id, project_id=pipeline.project_id,
                              message=f"pipeline {pipeline.name} queued")
        run.job_id = job.id
    return run


def run_due_pipelines(session: Session, *, runtime: Runtime, now: Any = None) -> list[PipelineRun]:
    """Start one run for every enabled pipeline whose scheduled time has come; return the runs started.

    Each slot is claimed by moving `next_run_at` forward with a conditional UPDATE, so two schedulers (or a
    restart replaying a tick) start it once; the (pipeline, slot) unique key backs that up.
    """
    now = now or utcnow()
    due = list(session.scalars(select(Pipeline).where(Pipeline.enabled.is_(True), Pipeline.schedule.is_not(None),
                                                      Pipeline.next_run_at <= now).order_by(Pipeline.next_run_at)))
    started: list[PipelineRun] = []
    for pipeline in due:
        slot, pipeline_id = pipeline.next_run_at, pipeline.id
        # Both are set on every row the query selects (schedule and next_run_at not null).
        assert pipeline.schedule is not None and slot is not None
        following = cron.next_run_from(pipeline.schedule, slot, now, timezone=pipeline.timezone)
        try:
            with unit_of_work(session):
                claimed = rows_changed(
                    session,
                    update(Pipeline).where(Pipeline.id == pipeline_id, Pipeline.next_run_at == slot,
                                           Pipeline.enabled.is_(True))
                    .values(next_run_at=following, last_scheduled_at=slot)
                    .execution_options(synchronize_session=False))
                if not claimed:
                    continue
                if _active_run(session, pipeline_id) is not None:
                    # The slot is spent either way: overlapping runs would race on the same watermark.
                    continue
                started.append(start_pipeline_run(session, runtime=runtime, pipeline_id=pipeline_id,
                                                  user_id=pipeline.created_by_id, reason="schedule",
                                                  scheduled_for=slot))
        except Conflict:
            continue
        finally:
            # The UPDATE bypassed the identity map; forget the stale copy.
            session.expire(pipeline)
    return started


@jobs.on_job_interrupted(RUN_JOB)
def _pipeline_job_interrupted(session: Session, job: jobs.Job) -> None:
    """Its pipeline run fails; rows it had staged are in a temporary folder that the next run clears."""
    for run in session.scalars(select(PipelineRun).where(PipelineRun.job_id == job.id,
                                                         PipelineRun.status.in_(list(ACTIVE)))):
        run.status, run.error, run.message = RunStatus.failed, jobs.INTERRUPTED, "interrupted"
        run.finished_at = utcnow()


# --- executing a run --------------------------------------------------------------------------------------------

def _read_new_rows(source: Source, *, watermark: str | None, folder: Path, log: Log) -> tuple[int, str | None]:
    """Read the source's new rows into Parquet parts under `folder`; return the row count and new watermark."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rows, new_watermark = 0, None
    for i, chunk in enumerate(source.connector.read(watermark=watermark, chunk_rows=CHUNK_ROWS)):
        if chunk.height == 0:
            continue
        chunk.write_parquet(folder / f"part-{i:06d}.parquet")
        rows += chunk.height
        # Connectors return rows in watermark order, so the last chunk holds the newest value.
        new_watermark = source.connector.new_watermark(chunk) or new_watermark
        log(f"read {rows:,} new rows")
    return rows, new_watermark


def _aligned(frame: pl.LazyFrame, previous: pl.LazyFrame) -> pl.LazyFrame:
    """Give the new rows the previous version's column order and exact types, so the two can be stacked.

    The schema check has already established the types agree up to how the lake stores them (unit, zone, width).
    """
    target = previous.collect_schema()
    incoming = frame.collect_schema()
    casts = [pl.col(name).cast(dtype) for name, dtype in target.items() if incoming.get(name) != dtype]
    return (frame.with_columns(casts) if casts else frame).select(list(target.names()))


@dataclass
class _Batch:
    """The rows one run read, where they are spooled, and what the source said about them."""

    source: Source
    rows_read: int
    watermark: str | None
    attempts: int


def _read_with_retries(session: Session, *, runtime: Runtime, pipeline: Pipeline, folder: Path,
                       log: Log) -> _Batch:
    """Read the pipeline's new rows into `folder`, retrying transient failures with exponential backoff."""
    settings = runtime.settings.feeder
    tries = 0

    def read_once() -> _Batch:
        nonlocal tries
        tries += 1
        source = _open_source(session, runtime=runtime, connection_id=pipeline.connection_id)
        rows, mark = _read_new_rows(source, watermark=pipeline.watermark, folder=folder, log=log)
        return _Batch(source, rows, mark, tries)

    def on_retry(attempt: int, error: BaseException, delay: float) -> None:
        log(f"attempt {attempt} of {settings.retry_attempts} failed: {_describe(error)}; retrying in {delay:g} s")

    batch, _ = rules.call_with_retries(read_once, attempts=settings.retry_attempts,
                                       base_delay_s=settings.retry_base_delay_s, on_retry=on_retry)
    return batch


def _cleaned(session: Session, *, pipeline: Pipeline, frame: pl.LazyFrame, folder: Path,
             log: Log) -> tuple[pl.LazyFrame, dict[str, Any] | None]:
    """Apply the pipeline's recipe (if any) once, spooling its output; return the rows and the recipe's identity."""
    if pipeline.recipe_version_id is None:
        return frame, None
    recipe = _check_recipe_version(session, project_id=pipeline.project_id,
                                   recipe_version_id=pipeline.recipe_version_id)
    cleaned = _apply_recipe(session, recipe_version_id=pipeline.recipe_version_id, frame=frame)
    # Spooled so the recipe runs once although the rows are counted, checked and then written.
    cleaned.sink_parquet(folder / "clean.parquet")
    log(f"applied recipe {recipe['name']!r} v{recipe['version']}")
    return pl.scan_parquet(folder / "clean.parquet"), recipe


def _checked_and_stacked(session: Session, *, runtime: Runtime, pipeline: Pipeline,
                         frame: pl.LazyFrame) -> tuple[pl.LazyFrame, list[int]]:
    """Refuse rows whose schema differs from the dataset's latest version; stack them on it in append mode.

    Returns the frame to write and the parent version ids for lineage.
    """
    dataset = datasets_service.find_dataset(session, project_id=pipeline.project_id, name=pipeline.dataset_name)
    latest = dataset.versions[-1] if dataset is not None and dataset.versions else None
    if latest is None:
        return frame, []
    incoming = {name: str(dtype) for name, dtype in frame.collect_schema().items()}
    change = rules.compare_schema(latest.schema, incoming)
    if change:
        raise InvalidInput(f"The source schema changed since dataset {pipeline.dataset_name!r} v{latest.version}: "
                           f"{change.describe()}. Nothing was written; update the dataset or the recipe to match, "
                           "then run the pipeline again.")
    if pipeline.mode == "append":
        previous = datasets_service.scan_dataset_version(session, store=runtime.store, version_id=latest.id)
        frame = pl.concat([previous, _aligned(frame, previous)], how="vertical")
    return frame, [latest.id]


def execute_pipeline_run(session: Session, *, runtime: Runtime, run_id: int, log: Log = lambda _line: None,
                         progress: Progress = lambda *_a, **_k: None) -> PipelineRun:
    """Execute a queued run: read new rows (retrying transient failures), clean, check, write, trigger."""
    run = get_pipeline_run(session, run_id=run_id)
    pipeline = get_pipeline(session, pipeline_id=run.pipeline_id)
    with unit_of_work(session):
        run.status, run.started_at, run.message = RunStatus.running, utcnow(), "reading"
    folder = Path(tempfile.gettempdir()) / f"mlpilot-feeder-{uuid.uuid4().hex}"
    batch: _Batch | None = None
    quarantine_key: str | None = None
    try:
        progress(0.1, "reading new rows", force=True)
        batch = _read_with_retries(session, runtime=runtime, pipeline=pipeline, folder=folder / "parts", log=log)
        if batch.rows_read == 0:
            log("no new rows since the last run; nothing written")
            with unit_of_work(session):
                _finish(run, RunStatus.succeeded, attempts=batch.attempts, message="no new rows")
            return run
        progress(0.4, "cleaning and checking the new rows", force=True)
        frame, recipe = _cleaned(session, pipeline=pipeline, frame=pl.scan_parquet(str(folder / "parts" / "*.parquet")),
                                 folder=folder, log=log)
        rows_new = frame.select(pl.len()).collect().item()
        frame, parents = _checked_and_stacked(session, runtime=runtime, pipeline=pipeline, frame=frame)
        progress(0.6, "writing the dataset version", force=True)
        quarantined = list(getattr(batch.source.connector, "quarantined", None) or [])
        if quarantined:
            quarantine_key = f"quarantine/{pipeline.project_id}/pipeline-{pipeline.id}-{uuid.uuid4().hex}.parquet"
            with runtime.store.writer(quarantine_key) as tmp:
                connections_service.quarantine_frame(quarantined).write_parquet(tmp)
            log(f"set {len(quarantined):,} malformed row(s) aside in {quarantine_key}")
        source = batch.source
        lineage = {
            "source": f"connection:{source.name}", "connector": source.kind,
            "connector_settings": source.settings, "recipe": recipe, "parents": parents,
            "rows_in": batch.rows_read + len(quarantined), "rows_out": rows_new, "quarantined_rows": len(quarantined),
            "quarantine_key": quarantine_key, "watermark": batch.watermark, "previous_watermark": pipeline.watermark,
            "pipeline": {"id": pipeline.id, "name": pipeline.name, "run_id": run.id, "mode": pipeline.mode},
        }
        # Log lines wait for the commit: the job log is written through another connection, which SQLite would
        # make wait for this transaction's write lock.
        notes: list[str] = []
        with unit_of_work(session):
            version, _profile_job = datasets_service.create_dataset_version_from_frame(
                session, runtime=runtime, project_id=pipeline.project_id, name=pipeline.dataset_name, frame=frame,
                lineage=lineage, user_id=pipeline.created_by_id, description=f"fed by pipeline {pipeline.name}")
            notes.append(f"wrote {pipeline.dataset_name!r} v{version.version} ({version.row_count:,} rows, "
                         f"{rows_new:,} new)")
            if batch.watermark is not None:
                pipeline.watermark = batch.watermark
            pipeline.rows_since_training = (pipeline.rows_since_training or 0) + rows_new
            run.dataset_version_id, run.rows_read, run.rows_written = version.id, batch.rows_read, rows_new
            run.watermark = pipeline.watermark
            training_run_id, trigger_note = _evaluate_triggers(session, runtime=runtime, pipeline=pipeline,
                                                               version_id=version.id, log=notes.append)
            run.training_run_id = training_run_id
            message = f"wrote v{version.version}" + (f"; {trigger_note}" if trigger_note else "")
            _finish(run, RunStatus.succeeded, attempts=batch.attempts, message=message)
        for line in notes:
            log(line)
        progress(1.0, "done", force=True)
        return run
    except BaseException as error:
        session.rollback()
        if quarantine_key is not None:
            runtime.store.delete(quarantine_key)
        tries = batch.attempts if batch is not None else getattr(error, "attempts", 1)
        detail = _describe(error)
        with session_scope(runtime.sessions) as own, unit_of_work(own):
            failed = get_pipeline_run(own, run_id=run_id)
            failed.rows_read = batch.rows_read if batch is not None else 0
            _finish(failed, RunStatus.failed, attempts=tries, message=detail[:500], error=detail)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _evaluate_triggers(session: Session, *, runtime: Runtime, pipeline: Pipeline, version_id: int,
                       log: Log) -> tuple[int | None, str]:
    """Start the training runs whose rules fire; return the first run id and a note for the run's message."""
    requests = rules.due_trainings(pipeline.triggers or [], pipeline.rows_since_training)
    if not requests:
        return None, ""
    first: int | None = None
    notes: list[str] = []
    for train in requests:
        try:
            run_id = _start_training(session, runtime=runtime, project_id=pipeline.project_id,
                                     version_id=version_id, train=train, user_id=pipeline.created_by_id)
        except InvalidInput as exc:
            # The data is good and stays written; the rule itself needs fixing.
            notes.append(f"training not started: {exc.detail}")
            log(f"trigger min_new_rows could not start training: {exc.detail}")
            continue
        first = first if first is not None else run_id
        notes.append(f"started training run {run_id}")
        log(f"{pipeline.rows_since_training:,} new rows since the last training: started training run {run_id} "
            f"(target {train.target!r})")
    if first is not None:
        pipeline.rows_since_training = 0
    return first, "; ".join(notes)


def _finish(run: PipelineRun, status: RunStatus, *, attempts: int, message: str, error: str | None = None) -> None:
    run.status, run.finished_at, run.attempts = status, utcnow(), attempts
    run.message, run.error = message[:500], error


def _describe(error: BaseException) -> str:
    if isinstance(error, MlpilotError):
        return error.detail
    return f"{type(error).__name__}: {error}"


@job_handler(RUN_JOB)
def _run_pipeline_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    with session_scope(ctx.runtime.sessions) as session:
        run = execute_pipeline_run(session, runtime=ctx.runtime, run_id=int(params["pipeline_run_id"]),
                                   log=ctx.log, progress=ctx.progress)
        return {"pipeline_run_id": run.id, "status": run.status, "rows_written": run.rows_written,
                "dataset_version_id": run.dataset_version_id, "training_run_id": run.training_run_id}
