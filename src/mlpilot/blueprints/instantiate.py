"""Instantiating a blueprint: every part of a new project, created and checked in one transaction.

First everything that can be checked without writing is checked (the document, the engine, the connection
kinds, the plan template, the data and the recipe on it), each error naming the blueprint field. Then one unit
of work creates the project, connections, dataset, recipe, prepared dataset, training run (fitted in place),
the deployed service (checked against its quality gate and with a smoke prediction), alert rules, the plan and
the value tree. If any step fails the transaction rolls back, the data plane drops the service, and the files
written for it are removed: nothing is half-created.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import Role, User
from mlpilot.blueprints import data as blueprint_data
from mlpilot.blueprints.catalog import get_blueprint
from mlpilot.blueprints.models import BlueprintInstance
from mlpilot.blueprints.spec import BlueprintSpec, ConnectionSource, GeneratedSource, ProjectDatasetSource
from mlpilot.connections import service as connections_service
from mlpilot.core import jobs
from mlpilot.core.db import session_scope, unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, MlpilotError
from mlpilot.core.jobs import JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.monitoring import alerts
from mlpilot.pmo import plan_templates
from mlpilot.projects import service as projects_service
from mlpilot.recipes import service as recipes_service
from mlpilot.recipes.steps import apply_steps, validate_steps
from mlpilot.registry import service as registry_service
from mlpilot.serving import service as serving_service
from mlpilot.serving.traffic import attached_dataplane
from mlpilot.training import service as training_service
from mlpilot.training.engines import engines
from mlpilot.training.runs import TASK_METRICS
from mlpilot.usecases import catalog as usecase_catalog
from mlpilot.value import service as value_service
from mlpilot.value.models import KpiSource, NodeKind
from mlpilot.value.schemas import NodeCreate

INSTANTIATE_JOB = "blueprints.instantiate"
MAX_PROJECT_NAME = 200
Progress = Callable[[float, str], None]


@dataclass
class InstantiationResult:
    blueprint: str
    version: int
    project_id: int
    project_name: str
    services: list[str]
    dataset_version_id: int
    run_id: int
    model_version_id: int
    metric: str | None
    metric_value: float | None
    alert_rules: int
    plan_tasks: int
    value_nodes: int
    connections_to_set_up: list[str] = field(default_factory=list)


def service_name_for(project_name: str, spec: BlueprintSpec) -> str:
    """A service name unique to the project: the project's slug and the blueprint's service."""
    slug = registry_service.slugify(project_name)[:28].strip("-") or "project"
    return f"{slug}-{spec.deployment.service}"[:60]


def check_project_name(session: Session, name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_PROJECT_NAME:
        raise InvalidInput(f"project_name: 1–{MAX_PROJECT_NAME} characters; got {len(name)}.")
    if projects_service.find_project_by_name(session, name=name) is not None:
        raise Conflict(f"project_name: a project named {name!r} already exists; choose another name.")
    return name


def check_blueprint(session: Session, spec: BlueprintSpec, *, user: User | None = None) -> None:
    """Check what the document cannot say by itself against this installation; errors name the field."""
    known_engines = engines.names()
    if spec.training.engine not in known_engines:
        raise InvalidInput(f"training.engine: unknown engine {spec.training.engine!r}; this installation has: "
                           f"{', '.join(known_engines)}.")
    installed, reason = training_service.engine_installed(engines.get(spec.training.engine))
    if not installed:
        raise InvalidInput(f"training.engine: {spec.training.engine!r} cannot run here: {reason}.")
    if spec.training.engine == "http":
        raise InvalidInput("training.engine: 'http' needs a vendor endpoint per project; a blueprint trains a "
                           "built-in engine.")
    if spec.training.metric and spec.training.metric not in TASK_METRICS[spec.training.task]:
        raise InvalidInput(f"training.metric: {spec.training.metric!r} does not fit task {spec.training.task!r}; "
                           f"one of {', '.join(TASK_METRICS[spec.training.task])}.")
    gate = spec.deployment.gate
    if gate is not None and gate.metric not in TASK_METRICS[spec.training.task]:
        raise InvalidInput(f"deployment.gate.metric: {gate.metric!r} is not measured for task "
                           f"{spec.training.task!r}; one of {', '.join(TASK_METRICS[spec.training.task])}.")
    kinds = connections_service.list_connector_kinds()
    for i, connection in enumerate(spec.connections):
        if connection.kind not in kinds:
            raise InvalidInput(f"connections[{i}].kind: unknown connection kind {connection.kind!r}; one of "
                               f"{', '.join(kinds)}.")
    for i, alert in enumerate(spec.monitors):
        if alert.metric not in alerts.METRICS:
            raise InvalidInput(f"monitors[{i}].metric: unknown metric {alert.metric!r}; one of "
                               f"{', '.join(alerts.METRICS)}.")
    for i, key in enumerate(spec.usecases):
        if usecase_catalog.find_usecase(key) is None:
            raise InvalidInput(f"usecases[{i}]: no use case {key!r} in the catalog.")
    if spec.plan is not None:
        try:
            plan_templates.get_template(session, key=spec.plan.template)
        except MlpilotError as exc:
            raise InvalidInput(f"plan.template: {exc.detail}") from None
    if spec.recipe is not None:
        try:
            validate_steps(spec.recipe.steps)
        except InvalidInput as exc:
            raise InvalidInput(f"recipe.steps: {exc.detail}") from None
    if isinstance(spec.data.source, ProjectDatasetSource) and user is not None:
        _project_dataset(session, spec.data.source, user)


def _project_dataset(session: Session, source: ProjectDatasetSource, user: User) -> int:
    project = projects_service.find_project_by_name(session, name=source.project)
    if project is None:
        raise InvalidInput(f"data.source.project: no project named {source.project!r}.")
    projects_service.check_project_access(session, project_id=project.id, user=user)
    dataset = datasets_service.find_dataset(session, project_id=project.id, name=source.dataset)
    if dataset is None or not dataset.versions:
        raise InvalidInput(f"data.source.dataset: project {source.project!r} has no dataset {source.dataset!r}.")
    return dataset.versions[-1].id


def source_frame(session: Session, runtime: Runtime, spec: BlueprintSpec, user: User) -> pl.DataFrame:
    """The rows the blueprint starts from."""
    source = spec.data.source
    if isinstance(source, GeneratedSource):
        return blueprint_data.generated_frame(source.generated, rows=source.rows, seed=source.seed)
    if isinstance(source, ProjectDatasetSource):
        version_id = _project_dataset(session, source, user)
        return datasets_service.read_dataset_version_frame(session, store=runtime.store, version_id=version_id)
    if isinstance(source, ConnectionSource):
        raise InvalidInput(f"data.source.connection: {source.connection!r} has no data until its settings and "
                           "secrets are entered; instantiate from shipped or generated data, then ingest.")
    return blueprint_data.shipped_frame(source.shipped, source.rows)


def prepare(session: Session, runtime: Runtime, spec: BlueprintSpec, user: User) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read the source and apply the recipe in memory: a bad step or a missing target fails before any write."""
    raw = source_frame(session, runtime, spec, user)
    prepared = raw
    if spec.recipe is not None:
        try:
            prepared = apply_steps(raw, spec.recipe.steps)[0].collect()
        except InvalidInput as exc:
            raise InvalidInput(f"recipe.steps: {exc.detail}") from None
    if spec.training.target not in prepared.columns:
        raise InvalidInput(f"training.target: column {spec.training.target!r} is not in the prepared data; "
                           f"columns are: {', '.join(prepared.columns)}.")
    return raw, prepared


def _gate(spec: BlueprintSpec, metrics: dict[str, Any]) -> None:
    gate = spec.deployment.gate
    if gate is None:
        return
    value = metrics.get(gate.metric)
    if not isinstance(value, int | float):
        raise InvalidInput(f"deployment.gate.metric: the run measured no {gate.metric!r}.")
    if gate.at_least is not None and value < gate.at_least:
        raise InvalidInput(f"deployment.gate: {gate.metric} = {value:.4g} on the test split, below "
                           f"{gate.at_least:g}; nothing was deployed.")
    if gate.at_most is not None and value > gate.at_most:
        raise InvalidInput(f"deployment.gate: {gate.metric} = {value:.4g} on the test split, above "
                           f"{gate.at_most:g}; nothing was deployed.")


def _smoke_test(runtime: Runtime, service: str, rows: pl.DataFrame) -> None:
    plane = attached_dataplane(runtime)
    if plane is None or rows.height == 0:
        return
    try:
        plane.require(service).model.predict(rows)
    except Exception as exc:  # any failure of the served model fails the instantiation
        raise InvalidInput(f"deployment: the deployed service {service!r} could not answer a test prediction: "
                           f"{exc}") from None


def _value_tree(session: Session, spec: BlueprintSpec, project_id: int, user: User, service: str,
                connection_ids: dict[str, int]) -> int:
    if spec.value_tree is None:
        return 0
    tree = spec.value_tree

    def add(data: NodeCreate) -> int:
        return value_service.create_node(session, project_id=project_id, user=user, data=data).id

    goal = add(NodeCreate(kind=NodeKind.goal, name_en=tree.goal.en, name_ko=tree.goal.ko))
    count = 1
    for driver in tree.drivers:
        driver_id = add(NodeCreate(kind=NodeKind.driver, parent_id=goal, name_en=driver.name.en,
                                   name_ko=driver.name.ko))
        count += 1
        for kpi in driver.kpis:
            source = KpiSource(kpi.source) if kpi.source else None
            add(NodeCreate.model_validate({
                "kind": NodeKind.kpi, "parent_id": driver_id, "name_en": kpi.name.en, "name_ko": kpi.name.ko,
                "unit": kpi.unit, "baseline": kpi.baseline, "target": kpi.target,
                "value_per_unit": kpi.value_per_unit, "currency": kpi.currency, "direction": kpi.direction,
                "source": source,
                "service_name": service if source is not None and source.value in (
                    "live_accuracy", "requests", "predictions") else None,
                "connection_id": connection_ids.get(kpi.connection or ""),
                "feed_month_column": kpi.feed_month_column, "feed_value_column": kpi.feed_value_column}))
            count += 1
    return count


def instantiate(session: Session, *, runtime: Runtime, user: User, spec: BlueprintSpec, project_name: str,
                time_budget_s: float | None = None, progress: Progress | None = None) -> InstantiationResult:
    """Create a project from `spec` with every part; all or nothing."""
    report = progress or (lambda fraction, message: None)
    accounts_service.require_role(user, Role.member)
    report(0.02, "checking the blueprint")
    project_name = check_project_name(session, project_name)
    check_blueprint(session, spec, user=user)
    report(0.05, "reading the data and applying the recipe")
    raw, prepared = prepare(session, runtime, spec, user)
    service = service_name_for(project_name, spec)
    if serving_service.find_service_by_name(session, name=serving_service.endpoint_name(service)[0]) is not None:
        raise Conflict(f"deployment.service: the service name {service!r} is taken; choose another project name.")
    budget = min(spec.training.time_budget_s, time_budget_s or spec.training.time_budget_s)
    # From here on one transaction holds every write (SQLite: the write lock), so no progress is recorded
    # until it commits.
    report(0.1, f"creating project {project_name!r}, training for up to {budget:g} s and deploying {service!r}")
    plane = attached_dataplane(runtime)
    served_before = plane is not None and (plane.get(service) is not None or service in plane.routes)
    run_id: int | None = None
    try:
        with unit_of_work(session):
            result, run_id = _create_all(session, runtime=runtime, user=user, spec=spec, project_name=project_name,
                                         raw=raw, prepared=prepared, service=service, budget=budget)
    except BaseException:
        if plane is not None and not served_before:
            plane.unload(serving_service.endpoint_name(service)[0])
        if run_id is not None:
            runtime.store.delete(f"runs/{run_id}/model")
        raise
    report(1.0, f"project {project_name!r} serves {service!r}")
    return result


def _create_all(session: Session, *, runtime: Runtime, user: User, spec: BlueprintSpec, project_name: str,
                raw: pl.DataFrame, prepared: pl.DataFrame, service: str,
                budget: float) -> tuple[InstantiationResult, int]:
    project = projects_service.create_project(
        session, name=project_name, user=user, client="", description=spec.localized_description("en"),
        usecase_key=spec.usecases[0] if spec.usecases else None)
    pid = project.id
    connection_ids: dict[str, int] = {}
    to_set_up: list[str] = []
    for i, conn in enumerate(spec.connections):
        # Without its settings, or its secrets (a published blueprint never carries them), a connection cannot be
        # made and checked here: the new project lists it for the user to set up.
        if not conn.settings or conn.secrets_needed:
            to_set_up.append(conn.name)
            continue
        try:
            made = connections_service.create_connection(session, runtime=runtime, project_id=pid, name=conn.name,
                                                         kind=conn.kind, settings=dict(conn.settings),
                                                         user_id=user.id)
        except InvalidInput as exc:
            raise InvalidInput(f"connections[{i}].settings: {exc.detail}") from None
        connection_ids[conn.name] = made.id
    lineage = {"source": "blueprint", "blueprint": spec.name, "blueprint_version": spec.version}
    raw_version, _ = datasets_service.create_dataset_version_from_frame(
        session, runtime=runtime, project_id=pid, name=spec.data.dataset, frame=raw, lineage=dict(lineage),
        user_id=user.id, description=f"From blueprint {spec.name} v{spec.version}.")
    train_version = raw_version
    if spec.recipe is not None:
        recipe = recipes_service.create_recipe(session, project_id=pid, name=spec.recipe.name,
                                               steps=spec.recipe.steps, user_id=user.id,
                                               note=f"from blueprint {spec.name}")
        train_version, _ = datasets_service.create_dataset_version_from_frame(
            session, runtime=runtime, project_id=pid,
            name=recipes_service.default_output_name(dataset_name=spec.data.dataset, recipe_name=recipe.name),
            # The lineage a recipe run records (recipes.service): the dataset page, the registry and the serving
            # of the recipe's row-wise steps read it.
            frame=prepared, lineage={**lineage, "source": f"recipe:{recipe.name} v{recipe.versions[-1].version}",
                                     "recipe": {"id": recipe.id, "name": recipe.name,
                                                "version": recipe.versions[-1].version,
                                                "version_id": recipe.versions[-1].id},
                                     "parents": [raw_version.id], "rows_in": raw.height,
                                     "rows_out": prepared.height},
            user_id=user.id, description=f"{spec.data.dataset} prepared by recipe {recipe.name}.")
    run = training_service.create_run(session, runtime=runtime, project_id=pid, dataset_version_id=train_version.id,
                                      target=spec.training.target, task=spec.training.task, time_budget_s=budget,
                                      engine=spec.training.engine, user_id=user.id, metric=spec.training.metric,
                                      experiment=f"blueprint {spec.name}"[:100], tags=["blueprint"])
    run_id = run.id
    # The run is fitted here, inside the transaction; its queued job is recorded as done so no runner repeats it.
    if run.job_id is not None:
        job = jobs.get_job(session, job_id=run.job_id)
        job.state, job.progress, job.finished_at = jobs.JobState.succeeded, 1.0, utcnow()
        job.message = f"trained while instantiating blueprint {spec.name}"
    run = training_service.fit_run(session, runtime=runtime, run_id=run.id)
    _gate(spec, dict(run.metrics or {}))
    model_version = registry_service.list_model_versions(session, project_id=pid)[-1]
    deployed = serving_service.deploy_model_version(session, runtime=runtime, project_id=pid, user=user,
                                                    name=service, model_version_id=model_version.id,
                                                    reason=f"blueprint {spec.name} v{spec.version}")
    _smoke_test(runtime, deployed.name,
                prepared.drop(spec.training.target).head(spec.deployment.smoke_test_rows))
    for alert in spec.monitors:
        alerts.create_rule(session, name=alert.name, service=deployed.name, metric=alert.metric, op=alert.op,
                           threshold=alert.threshold, window_minutes=alert.window_minutes,
                           cooldown_minutes=alert.cooldown_minutes)
    tasks = []
    if spec.plan is not None:
        tasks = plan_templates.create_plan(session, project_id=pid, user=user, key=spec.plan.template,
                                           start_date=dt.date.today() + dt.timedelta(days=spec.plan.start_in_days))
    try:
        nodes = _value_tree(session, spec, pid, user, deployed.name, connection_ids)
    except InvalidInput as exc:
        raise InvalidInput(f"value_tree: {exc.detail}") from None
    session.add(BlueprintInstance(project_id=pid, blueprint=spec.name, version=spec.version,
                                  services=deployed.name, created_by_id=user.id))
    session.flush()
    return InstantiationResult(
        blueprint=spec.name, version=spec.version, project_id=pid, project_name=project.name,
        services=[deployed.name], dataset_version_id=train_version.id, run_id=run.id,
        model_version_id=model_version.id, metric=run.primary_metric, metric_value=run.primary_metric_value,
        alert_rules=len(spec.monitors), plan_tasks=len(tasks), value_nodes=nodes,
        connections_to_set_up=to_set_up), run_id


def start_instantiation(session: Session, *, runtime: Runtime, user: User, name: str, project_name: str,
                        time_budget_s: float | None = None) -> jobs.Job:
    """Check the request now (blueprint, name, engine …) and start the instantiation job."""
    accounts_service.require_role(user, Role.member)
    entry = get_blueprint(session, name=name)
    project_name = check_project_name(session, project_name)
    check_blueprint(session, entry.spec, user=user)
    if time_budget_s is not None and not 0 < time_budget_s <= 3_600:
        raise InvalidInput("time_budget_s: more than 0 and at most 3600 seconds.")
    with unit_of_work(session):
        job = jobs.create_job(session, runtime=runtime, kind=INSTANTIATE_JOB,
                              params={"blueprint": entry.name, "project_name": project_name,
                                      "time_budget_s": time_budget_s},
                              user_id=user.id, message=f"instantiating blueprint {entry.name} queued")
    return job


@job_handler(INSTANTIATE_JOB)
def _run_instantiate_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    with session_scope(ctx.runtime.sessions) as session:
        if ctx.user_id is None:
            raise InvalidInput("An instantiation job needs the user who asked for it.")
        user = accounts_service.get_user(session, user_id=ctx.user_id)
        spec = get_blueprint(session, name=str(params["blueprint"])).spec
        budget = params.get("time_budget_s")
        result = instantiate(session, runtime=ctx.runtime, user=user, spec=spec,
                             project_name=str(params["project_name"]),
                             time_budget_s=float(budget) if budget is not None else None,
                             progress=lambda fraction, message: ctx.progress(fraction, message, force=True))
        return dataclasses.asdict(result)
