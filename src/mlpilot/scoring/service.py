"""Use cases of batch scoring: create, run (in a job or the CLI), resume and inspect scoring runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

import mlpilot.metadata  # noqa: F401  (every table, so foreign keys resolve in a bare CLI/worker process)
from mlpilot.accounts.models import Role, User
from mlpilot.core.allowlist import AllowList
from mlpilot.core.db import get_existing, session_scope, unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlpilot.core.jobs import Job, JobContext, create_job, job_handler, on_job_interrupted
from mlpilot.core.runtime import Runtime
from mlpilot.core.secrets import seal_values, unseal_values
from mlpilot.core.timebuckets import utc_day
from mlpilot.dataplane.recipe import load_model_with_steps as load_model
from mlpilot.datasets.connectors import Connector, connectors
from mlpilot.notifications import service as notifications_service
from mlpilot.projects import service as projects_service
from mlpilot.registry import service as registry_service
from mlpilot.registry.external import ExternalModel
from mlpilot.scoring import engine
from mlpilot.scoring.models import ScoringRun
from mlpilot.scoring.specs import FileOutput, FileSource, SqlOutput, SqlSource, parse_output, parse_source, stored
from mlpilot.serving import service as serving_service
from mlpilot.serving import traffic

JOB_KIND = "scoring.run"


def _connector(source: SqlSource | FileSource, guard: AllowList) -> Connector:
    """The connector of the source's kind, its settings checked with the connector's own messages."""
    settings = {k: v for k, v in stored(source).items() if k not in ("kind", "password")}
    secrets = {"password": source.password} if isinstance(source, SqlSource) and source.password else {}
    connector = connectors.get(source.kind)(settings, secrets)
    connector.check_allowed(guard)
    return connector


def check_targets(guard: AllowList, *, source: SqlSource | FileSource, output: SqlOutput | FileOutput,
                  model_path: str | None) -> None:
    """Refuse a source, output or model folder outside the admin's allow-list (at creation and at every start)."""
    _connector(source, guard)
    match output:
        case FileOutput(path=path):
            guard.local_path(path, field_name="output.path")
        case SqlOutput(url=url):
            try:
                guard.database_url(url, field_name="output.url")
            except ArgumentError:
                raise InvalidInput(f"output.url: {url!r} is not a SQLAlchemy database URL.") from None
    if model_path is not None:
        guard.local_path(model_path, field_name="model_path")


def seal(settings: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Move the password of a source/output (its `password` field or the one inside its URL) into an encrypted
    `sealed` field, so the database holds no database passwords in the clear."""
    spec, hidden = dict(spec), {}
    if spec.get("password"):
        hidden["password"] = spec.pop("password")
    url = spec.get("url")
    if isinstance(url, str) and "://" in url:
        try:
            parsed = make_url(url)
        except ArgumentError:
            parsed = None  # the connector reports a malformed URL in its own words
        if parsed is not None and parsed.password:
            hidden["url_password"] = parsed.password
            # URL.set() treats None as "unchanged", so the tuple field is replaced directly.
            spec["url"] = parsed._replace(password=None).render_as_string(hide_password=False)
    spec.pop("sealed", None)
    if hidden:
        if settings is None:
            raise InvalidInput("Database passwords can only be stored encrypted; the installation settings are needed.")
        spec["sealed"] = seal_values(settings, hidden)
    return spec


def unseal(settings: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Undo `seal`: the spec with its password back, for connecting."""
    spec = dict(spec)
    token = spec.pop("sealed", None)
    if not token:
        return spec
    hidden = unseal_values(settings, token, what="scoring run's database password")
    if "password" in hidden:
        spec["password"] = hidden["password"]
    if "url_password" in hidden:
        spec["url"] = make_url(spec["url"]).set(password=hidden["url_password"]).render_as_string(
            hide_password=False)
    return spec


def create_run(session: Session, *, source: SqlSource | FileSource, output: SqlOutput | FileOutput,
               model_version_id: int | None = None, model_path: str | None = None, keep: list[str] | None = None,
               chunk_rows: int = 50_000, name: str = "", project_id: int | None = None,
               settings: Any = None, service_name: str | None = None, guard: AllowList) -> ScoringRun:
    """Record a scoring run after checking its source, output and model are well formed.

    Passwords in the source or output are stored encrypted with the installation's key (`settings`).
    """
    if sum(x is not None for x in (model_version_id, model_path, service_name)) != 1:
        raise InvalidInput("Give exactly one model: a model version id, a model folder path or a deployed service.")
    if chunk_rows < 1:
        raise InvalidInput("chunk_rows must be at least 1.")
    check_targets(guard, source=source, output=output, model_path=model_path)
    if service_name is not None:
        project_id = project_id or serving_service.get_service_by_name(session, name=service_name).project_id
    if model_version_id is not None:
        mv = registry_service.get_model_version(session, model_version_id=model_version_id)
        project_id = project_id or mv.project_id
    with unit_of_work(session):
        run = ScoringRun(name=name, source=seal(settings, stored(source)), output=seal(settings, stored(output)),
                         model_version_id=model_version_id, service_name=service_name,
                         model_path=model_path, keep=keep, chunk_rows=chunk_rows, project_id=project_id)
        session.add(run)
        session.flush()
    return run


def get_run(session: Session, *, run_id: int) -> ScoringRun:
    return get_existing(session, ScoringRun, run_id, "Scoring run")


def list_runs(session: Session, *, user: User | None = None, limit: int = 100) -> list[ScoringRun]:
    """Return the newest runs; with `user`, only those of projects the user belongs to (admins see all)."""
    stmt = select(ScoringRun).order_by(ScoringRun.id.desc()).limit(limit)
    if user is not None and user.role != Role.admin:
        project_ids = [p.id for p in projects_service.list_projects(session, user=user)]
        stmt = stmt.where(ScoringRun.project_id.in_(project_ids))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class DailyScoring:
    """Scoring runs of a project that succeeded on one UTC day, and the rows they scored."""

    day: str
    runs: int
    rows: int


def daily_scoring(session: Session, *, project_id: int, since: dt.datetime, until: dt.datetime) -> list[DailyScoring]:
    """Succeeded runs and rows scored per UTC day of finishing in [since, until), counted by the database."""
    day = utc_day(session, ScoringRun.finished_at)
    stmt = (select(day, func.count(), func.coalesce(func.sum(ScoringRun.rows_done), 0))
            .where(ScoringRun.project_id == project_id, ScoringRun.state == "succeeded",
                   ScoringRun.finished_at >= since, ScoringRun.finished_at < until)
            .group_by(day))
    return [DailyScoring(day=str(d), runs=int(n), rows=int(r)) for d, n, r in session.execute(stmt)]


def check_run_access(session: Session, *, run_id: int, user: User, write: bool = False) -> ScoringRun:
    """Return the run if `user` may see it (or start it again, with write=True); runs of no project are admins'."""
    run = get_run(session, run_id=run_id)
    if run.project_id is None:
        if user.role != Role.admin:
            raise NotFound(f"Scoring run {run_id} does not exist.")
        return run
    projects_service.check_project_access(session, project_id=run.project_id, user=user, write=write)
    return run


def check_target_access(session: Session, *, user: User, model_version_id: int | None = None,
                        service_name: str | None = None, model_path: str | None = None) -> None:
    """Refuse scoring with a model the user may not use: another project's model or service, or a server folder."""
    if model_path is not None and user.role != Role.admin:
        raise PermissionDenied("Only admins may score with a model folder on the server (model_path); use a "
                               "registered model version or a deployed service.")
    if model_version_id is not None:
        model_version = registry_service.get_model_version(session, model_version_id=model_version_id)
        projects_service.check_project_access(session, project_id=model_version.project_id, user=user, write=True)
    if service_name is not None:
        serving_service.check_service_access(session, name=service_name, user=user, write=True)


def submit_run(session: Session, *, runtime: Runtime, run_id: int, user_id: int | None = None) -> ScoringRun:
    """Queue a job that runs (or resumes) scoring run `run_id`."""
    with unit_of_work(session):
        run = get_run(session, run_id=run_id)
        if run.state == "succeeded":
            raise Conflict(f"Scoring run {run_id} already finished; create a new run to score again.")
        job = create_job(session, runtime=runtime, kind=JOB_KIND, params={"run_id": run_id}, user_id=user_id,
                         project_id=run.project_id, message="scoring queued")
        run.job_id, run.state = job.id, "queued"
    return run


def _service_model(runtime: Runtime, session: Session, run: ScoringRun, service_name: str) -> Any:
    """Load the model a service-targeted run scores with: the backend pinned at its start, else the primary now."""
    service = serving_service.get_service_by_name(session, name=service_name)
    spec = traffic.route_spec(session, runtime=runtime, service=service).primary
    if run.scored_by is not None and run.scored_by != spec.label:
        if run.model_version_id is not None:  # the pinned model version is still in the registry
            return load_model(Path(_model_path(runtime, session, run)))
        raise Conflict(f"Scoring run {run.id} started with backend {run.scored_by!r} of service "
                       f"{run.service_name!r}, which now answers with {spec.label!r}; resuming would mix two "
                       "models in one output. Create a new run to score with the new backend.")
    with unit_of_work(session):
        run.scored_by = spec.label
        if spec.kind == "model" and service.primary_backend_id is not None:
            backend = traffic.get_backend(session, service=service, backend_id=service.primary_backend_id)
            run.model_version_id = backend.model_version_id
    if spec.kind == "external":
        return ExternalModel(spec.config, traffic.service_contract(session, service=service))
    if spec.model_path is None:
        raise Conflict(f"Service {service_name!r} has no model to score with; deploy one first.")
    return load_model(Path(spec.model_path))


def _model_path(runtime: Runtime, session: Session, run: ScoringRun) -> str:
    if run.model_path:
        return run.model_path
    if run.model_version_id is None:
        raise InvalidInput(f"Scoring run {run.id} names no model: give a model version, a model folder or a service.")
    mv = registry_service.get_model_version(session, model_version_id=run.model_version_id)
    return str(registry_service.resolve_model_path(store=runtime.store, model_version=mv))


def execute_run(runtime: Runtime, run_id: int, *,
                on_chunk: Callable[[engine.ChunkDone], None] | None = None) -> engine.ScoringResult:
    """Run or resume scoring run `run_id` here and now; chunks already in the output are skipped."""
    with session_scope(runtime.sessions) as session:
        with unit_of_work(session):
            run = get_run(session, run_id=run_id)
            if run.state == "succeeded":
                return engine.ScoringResult(**(run.result or {}))
            run.state, run.attempts, run.error = "running", run.attempts + 1, None
        source = parse_source(unseal(runtime.settings, run.source))
        output_spec = parse_output(unseal(runtime.settings, run.output))
        # Again at every start, before anything is opened or unpickled: the allow-list or the file system may
        # have changed since the run was created.
        check_targets(runtime.allowlist, source=source, output=output_spec, model_path=run.model_path)
        if run.service_name is not None:
            model = _service_model(runtime, session, run, run.service_name)
        else:
            model = load_model(Path(_model_path(runtime, session, run)))
        keep, chunk_rows = run.keep, run.chunk_rows
        run_key = run.run_key

    def progress(chunk: engine.ChunkDone) -> None:
        with session_scope(runtime.sessions) as session, unit_of_work(session):
            session.execute(update(ScoringRun).where(ScoringRun.id == run_id)
                            .values(chunks_done=chunk.index + 1, rows_done=chunk.total_rows))
        if on_chunk:
            on_chunk(chunk)

    try:
        output = engine.make_output(output_spec, run_key=run_key)
        result = engine.run(_connector(source, runtime.allowlist).read(chunk_rows=chunk_rows), model, output, keep=keep,
                            on_chunk=progress)
    except Exception as exc:
        detail = getattr(exc, "detail", None) or f"{type(exc).__name__}: {exc}"
        with session_scope(runtime.sessions) as session, unit_of_work(session):
            session.execute(update(ScoringRun).where(ScoringRun.id == run_id)
                            .values(state="failed", error=str(detail)[:5000], finished_at=utcnow()))
        raise
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        session.execute(update(ScoringRun).where(ScoringRun.id == run_id)
                        .values(state="succeeded", result=result.as_dict(), rows_done=result.rows,
                                finished_at=utcnow()))
        _publish_finished(session, run_id, result)
    return result


def _publish_finished(session: Session, run_id: int, result: engine.ScoringResult) -> None:
    notifications_service.publish(session, "scoring.finished", {"run_id": run_id, **result.as_dict()})


@job_handler(JOB_KIND, resumable=True)  # whole chunks with checkpoints: a rerun skips what is written
def _scoring_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    run_id = int(params["run_id"])
    with session_scope(ctx.runtime.sessions) as session:
        run = get_run(session, run_id=run_id)
        ctx.log(f"scoring run {run_id}: {run.source.get('kind')} → {run.output.get('kind')}")

    def report(chunk: engine.ChunkDone) -> None:
        verb = "skipped (already written)" if chunk.skipped else "scored"
        ctx.progress(0.0, f"chunk {chunk.index + 1} {verb}; {chunk.total_rows} rows so far")

    return execute_run(ctx.runtime, run_id, on_chunk=report).as_dict()


@on_job_interrupted(JOB_KIND)
def _scoring_job_interrupted(session: Session, job: Job) -> None:
    """The run stays resumable: its output holds only whole chunks, each committed with its checkpoint."""
    session.execute(update(ScoringRun).where(ScoringRun.job_id == job.id, ScoringRun.state.in_(("queued", "running")))
                    .values(state="failed", error="Interrupted: the server process stopped; resume the run to "
                            "continue where it left off.", finished_at=utcnow()))

