"""Runs and experiments as records: validate and queue a run, read, tag and rank runs, group them in experiments."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlpilot.core import jobs
from mlpilot.core.db import get_existing, unit_of_work
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.recipes import rowwise
from mlpilot.recipes import service as recipes_service
from mlpilot.registry import service as registry_service
from mlpilot.registry.models import Registration
from mlpilot.registry.signature import Signature
from mlpilot.training import metrics as run_metrics
from mlpilot.training.catalog import default_engine, engine_installed
from mlpilot.training.engines import engines
from mlpilot.training.external import get_external_engine
from mlpilot.training.models import Experiment, Run, RunStatus
from mlpilot.training.schemas import ExperimentRead, LeaderboardEntry
from mlpilot.training.tasks import TASK_CHOICES, resolve_task

if TYPE_CHECKING:
    from mlpilot.registry.models import ModelVersion

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
    "forecast": ("mase", "smape", "rmse", "pinball"),
}
FORECAST_ENGINE = "forecast"  # the forecasting AutoML (training.forecasting), not an adapter of training.engines


def get_run(session: Session, *, run_id: int) -> Run:
    """Return run `run_id`."""
    return get_existing(session, Run, run_id, "Run")


def register_run(session: Session, *, run_id: int, user_id: int | None, name: str | None = None,
                 store: ArtifactStore | None = None) -> ModelVersion:
    """Register the model of a succeeded run in the registry as the next version of `name`.

    With `store`, a model trained on a recipe's output carries the recipe's row-wise steps (frozen on the data
    the recipe was applied to) into serving and batch scoring; a step that cannot be carried is refused.
    """
    run = get_run(session, run_id=run_id)
    if run.status != RunStatus.succeeded or not run.artifact_key or run.signature is None:
        raise InvalidInput(f"Run {run_id} is {run.status}; only a succeeded run with a saved model can be registered.")
    model = registry_service.RunModel(
        run_id=run.id, project_id=run.project_id, dataset_version_id=run.dataset_version_id, target=run.target,
        task=run.task, engine=run.engine, flavor=run.flavor or "lightgbm", artifact_key=run.artifact_key,
        signature=dict(run.signature), metrics=dict(run.metrics), finished_at=run.finished_at)
    if store is not None and run.dataset_version_id is not None:
        frozen = recipe_row_steps(session, store=store, dataset_version_id=run.dataset_version_id,
                                  model_inputs=[c["name"] for c in run.signature["inputs"]])
        if frozen is not None:
            # Next to the model, in the store (and in the local copy the data plane loads from a remote store).
            rowwise.write_row_steps(registry_service.resolve_model_path(store=store, model_version=model), frozen)
            if not store.is_local:
                store.put_bytes(f"{model.artifact_key}/{rowwise.ROW_STEPS_FILE}",
                                (registry_service.resolve_model_path(store=store, model_version=model)
                                 / rowwise.ROW_STEPS_FILE).read_bytes())
            filled = rowwise.filled_columns(frozen.steps)
            signature = Signature.from_dict(model.signature)
            relaxed = replace(signature, inputs=tuple(replace(c, nullable=True) if c.name in filled else c
                                                      for c in signature.inputs))
            model = replace(model, signature=relaxed.to_dict(), row_steps=frozen.to_dict())
    return registry_service.register_run_model(session, model, user_id=user_id, name=name)


def registration_decision(session: Session, *, run: Run) -> str | None:
    """Why a just-succeeded run registers on its own under the project's choice; None when it does not.

    "best" (the default) registers a run only when no earlier succeeded run of the same target and task ranks
    above it, so a weaker experiment never becomes a new model version; "every" registers all; "manual" none.
    """
    policy = registry_service.get_registration_policy(session, project_id=run.project_id)
    if policy.mode == Registration.manual:
        return None
    if policy.mode == Registration.every:
        return "every run"
    session.flush()
    ranked = [r for r in leaderboard(session, project_id=run.project_id, task=run.task) if r.target == run.target]
    if run.primary_metric_value is None:  # cannot be ranked: registered only while nothing ranked exists
        return None if ranked else "best run"
    return "best run" if ranked and ranked[0].id == run.id else None


def blank_warnings(session: Session, *, dataset_version_id: int, signature: Signature) -> list[str]:
    """Warn about model inputs that the profile shows blanks in (in the dataset, or in the source its recipe read)
    while the served model will refuse blanks there (HTTP 400): the recipe dropped or never had them, and fills
    none of them; an impute step in the recipe would make serving take them."""
    lineage = datasets_service.get_dataset_version_lineage(session, version_id=dataset_version_id)
    profiled = [dataset_version_id, *[p.id for p in lineage.parents]]
    filled: set[str] = set()
    if lineage.recipe and lineage.recipe.get("version_id") is not None:
        version = recipes_service.get_recipe_version(session, recipe_version_id=int(lineage.recipe["version_id"]))
        filled = rowwise.filled_columns([s for s in version.steps if s.get("op") == "impute"])
    refused = {c.name for c in signature.inputs if not c.nullable and c.name not in filled}
    warnings: list[str] = []
    for version_id in profiled:
        profile = datasets_service.find_dataset_profile(session, version_id=version_id)
        for column in (profile.profile.get("column_profiles", []) if profile is not None else []):
            name, share = column.get("name"), float(column.get("missing_pct") or 0)
            if name in refused and share > 0:
                refused.discard(name)
                warnings.append(f"{share:g} % of the values of {name!r} are blank in dataset version {version_id}, "
                                "but the served model refuses blank values there (HTTP 400); fill them with an "
                                "impute step of the recipe so the model learns and serves them.")
    return warnings


def recipe_row_steps(session: Session, *, store: ArtifactStore, dataset_version_id: int,
                     model_inputs: list[str]) -> rowwise.FrozenRecipe | None:
    """The row-wise steps of the recipe that made a dataset version, frozen on its source; None without a recipe."""
    lineage = datasets_service.get_dataset_version_lineage(session, version_id=dataset_version_id)
    if not lineage.recipe or not lineage.parents or lineage.recipe.get("version_id") is None:
        return None
    version = recipes_service.get_recipe_version(session, recipe_version_id=int(lineage.recipe["version_id"]))
    source = datasets_service.scan_dataset_version(session, store=store, version_id=lineage.parents[0].id).collect()
    frozen = rowwise.freeze_row_steps(version.steps, source, model_inputs=model_inputs)
    return frozen if frozen.steps else None


def list_runs(session: Session, *, project_id: int) -> list[Run]:
    """Return the project's runs, newest first."""
    return list(session.scalars(select(Run).where(Run.project_id == project_id).order_by(Run.id.desc())))


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


def list_experiments(session: Session, *, project_id: int) -> list[ExperimentRead]:
    """The project's experiments with their run counts and best run, newest first."""
    experiments = list(session.scalars(select(Experiment).where(Experiment.project_id == project_id)
                                       .order_by(Experiment.id.desc())))
    runs = list_runs(session, project_id=project_id)
    ranked = leaderboard(session, project_id=project_id)
    result = []
    for experiment in experiments:
        mine = [r for r in runs if r.experiment_id == experiment.id]
        board = [r for r in ranked if r.experiment_id == experiment.id]
        result.append(ExperimentRead(id=experiment.id, name=experiment.name, description=experiment.description,
                                     runs=len(mine), best_run_id=board[0].id if board else None,
                                     created_at=experiment.created_at))
    return result


def experiment_names(session: Session, *, project_id: int) -> dict[int, str]:
    """Experiment id → name for a project."""
    rows = session.execute(select(Experiment.id, Experiment.name).where(Experiment.project_id == project_id))
    return {row.id: row.name for row in rows}


def create_run(session: Session, *, runtime: Runtime, project_id: int, dataset_version_id: int, target: str,
               task: str = "auto", time_budget_s: float = 60.0, engine: str | None = None,
               user_id: int | None = None, params: dict[str, Any] | None = None, metric: str | None = None,
               sensitive_column: str | None = None, positive_class: str | None = None,
               experiment: str | None = None, tags: list[str] | None = None, notes: str = "",
               external_engine_id: int | None = None, time_column: str | None = None,
               id_column: str | None = None, horizon: int | None = None) -> Run:
    """Check the request against the data, record a queued run and start its training job."""
    # A project screened no-go may not build until it is screened again or an admin overrides the verdict.
    projects_service.check_build_allowed(session, project_id=project_id)
    if task == "forecast":
        if engine not in (None, FORECAST_ENGINE, "auto"):
            raise InvalidInput(f"Task 'forecast' trains the built-in forecasting AutoML, not engine {engine!r}.")
        engine, params = FORECAST_ENGINE, {}
    engine = engine or default_engine()
    if engine != FORECAST_ENGINE:
        installed, reason = engine_installed(engines.get(engine))
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
    if task not in (*TASK_CHOICES, "forecast"):
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
    if task == "forecast":
        params = _forecast_params(columns, target=target, time_column=time_column, id_column=id_column,
                                  horizon=horizon)
        if positive_class or sensitive_column:
            raise InvalidInput("A forecasting run measures no fairness: leave sensitive_column and positive_class"
                               " empty.")
    else:
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


def _forecast_params(columns: list[str], *, target: str, time_column: str | None, id_column: str | None,
                     horizon: int | None) -> dict[str, Any]:
    """The forecasting settings of a run, checked against the dataset's columns."""
    if not time_column or horizon is None:
        raise InvalidInput("Task 'forecast' needs time_column and horizon.")
    if not 1 <= horizon <= 10_000:
        raise InvalidInput(f"horizon must be between 1 and 10000 steps; got {horizon}.")
    for label, column in (("time_column", time_column), ("id_column", id_column)):
        if column is not None and column not in columns:
            raise InvalidInput(f"{label} {column!r} is not in the dataset; columns are: {', '.join(columns)}.")
        if column == target:
            raise InvalidInput(f"{label} must not be the target column.")
    return {"time_column": time_column, "id_column": id_column or None, "horizon": int(horizon)}


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


@dataclass(frozen=True)
class TrainingSummary:
    """The project's leaderboard, best first, for reports."""

    leaderboard: list[LeaderboardEntry]
    best: LeaderboardEntry | None


def leaderboard_entries(session: Session, *, project_id: int, task: str | None = None) -> list[LeaderboardEntry]:
    """Return the leaderboard, ranked within each task."""
    entries: list[LeaderboardEntry] = []
    ranks: dict[str, int] = {}
    names = experiment_names(session, project_id=project_id)
    for run in leaderboard(session, project_id=project_id, task=task):
        ranks[run.task] = ranks.get(run.task, 0) + 1
        metric = run.primary_metric or ""
        entries.append(LeaderboardEntry(
            rank=ranks[run.task], run_id=run.id, engine=run.engine, task=run.task, target=run.target,
            metric_name=metric, metric_value=run.primary_metric_value,
            higher_is_better=run_metrics.higher_is_better(metric), metrics=dict(run.metrics),
            duration_s=run.duration_s, dataset=describe_dataset(session, run=run),
            experiment=names.get(run.experiment_id or 0), tags=list(run.tags or [])))
    return entries


def project_summary(session: Session, *, project_id: int) -> TrainingSummary:
    """Summarise the project's leaderboard and best run (for reports)."""
    entries = leaderboard_entries(session, project_id=project_id)
    return TrainingSummary(leaderboard=entries, best=entries[0] if entries else None)


def get_runs(session: Session, *, run_ids: list[int]) -> list[Run]:
    """The runs `run_ids` in the given order (NotFound names the first missing one)."""
    return [get_run(session, run_id=run_id) for run_id in run_ids]

