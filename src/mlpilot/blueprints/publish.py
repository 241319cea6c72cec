"""Publishing a running project as a blueprint: its parts read through their services, secrets stripped.

Connections keep their kind and the settings that hold no secret; secret values are never read, only the names
of the secrets a user must enter (`secrets_needed`). The data source points at the project's dataset, so a
project made from the blueprint starts from the same rows (its users need read access to that project).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.blueprints.catalog import BlueprintEntry, require_publisher, store_blueprint
from mlpilot.blueprints.spec import (
    SCHEMA_VERSION,
    SECRET_WORDS,
    BlueprintSpec,
    parse_blueprint,
)
from mlpilot.connections import service as connections_service
from mlpilot.core.errors import InvalidInput
from mlpilot.datasets import service as datasets_service
from mlpilot.monitoring import alerts
from mlpilot.projects import service as projects_service
from mlpilot.recipes import service as recipes_service
from mlpilot.serving import service as serving_service
from mlpilot.training import service as training_service
from mlpilot.value import service as value_service

SERVICE_SOURCES = ("live_accuracy", "requests", "predictions")


def _settings(settings: dict[str, object]) -> dict[str, object]:
    """Settings without any value that could be a secret (by name), and only plain values."""
    return {k: v for k, v in settings.items()
            if not SECRET_WORDS.search(k) and isinstance(v, str | int | float | bool | type(None))
            and not (isinstance(v, str) and "://" in v and "@" in v)}


def publish_project(session: Session, *, user: User, project_id: int, name: str, title_en: str, title_ko: str,
                    description_en: str, description_ko: str, plan_template: str | None = "ai-7-step",
                    replace: bool = False) -> BlueprintEntry:
    """Turn the project's latest succeeded run, its service, alert rules and value tree into a blueprint."""
    require_publisher(user)
    project = projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
    runs = [r for r in training_service.list_runs(session, project_id=project_id)
            if r.status == "succeeded" and r.task in ("binary", "multiclass", "regression")]
    if not runs:
        raise InvalidInput("The project has no succeeded training run to publish; train a model first.")
    run = max(runs, key=lambda r: r.id)
    version = datasets_service.get_dataset_version(session, version_id=run.dataset_version_id)
    connections = connections_service.list_connections(session, project_id=project_id)
    services = serving_service.list_services(session, project_id=project_id)
    service_names = [s.name for s in services]
    rules = alerts.list_rules(session, services=service_names) if service_names else []
    names_by_id = {c.id: c.name for c in connections}
    document: dict[str, object] = {
        "schema_version": SCHEMA_VERSION, "name": name, "version": 1,
        "title": {"en": title_en, "ko": title_ko},
        "description": {"en": description_en, "ko": description_ko},
        "usecases": [project.usecase_key] if project.usecase_key else [],
        "tags": ["published"],
        "connections": [{"name": c.name, "kind": c.kind, "settings": _settings(dict(c.settings or {})),
                         "secrets_needed": sorted(c.secret_names or [])} for c in connections],
        **_data_and_recipe(session, version_id=version.id, dataset_name=version.dataset.name,
                           project_name=project.name),
        "training": {"target": run.target, "task": run.task, "engine": run.engine,
                     "time_budget_s": min(max(run.time_budget_s, 1.0), 3_600.0),
                     **({"metric": run.metric} if run.metric else {})},
        "deployment": {"service": _service_suffix(services[0].name if services else project.name)},
        "monitors": [{"name": r.name, "metric": r.metric, "op": r.op, "threshold": r.threshold,
                      "window_minutes": r.window_minutes, "cooldown_minutes": r.cooldown_minutes} for r in rules],
    }
    if plan_template:
        document["plan"] = {"template": plan_template}
    tree = _value_tree(session, project_id, names_by_id)
    if tree is not None:
        document["value_tree"] = tree
    spec: BlueprintSpec = parse_blueprint(document, where="published blueprint")
    return store_blueprint(session, user=user, spec=spec, origin="published", source_project_id=project_id,
                           replace=replace)


def _data_and_recipe(session: Session, *, version_id: int, dataset_name: str,
                     project_name: str) -> dict[str, object]:
    """The run's data: when a recipe made it, the recipe's steps over the dataset the recipe read (so an instance
    prepares its own data the same way); otherwise the dataset itself."""
    lineage = datasets_service.get_dataset_version_lineage(session, version_id=version_id)
    recipe = lineage.recipe or {}
    if recipe.get("version_id") is None or not lineage.parents:
        return {"data": {"dataset": dataset_name, "source": {"project": project_name, "dataset": dataset_name}}}
    recipe_version = recipes_service.get_recipe_version(session, recipe_version_id=int(recipe["version_id"]))
    source = lineage.parents[0].dataset_name
    steps = [dict(step) for step in recipe_version.steps if not step.get("disabled")]
    found: dict[str, object] = {"data": {"dataset": source, "source": {"project": project_name, "dataset": source}}}
    if steps:
        found["recipe"] = {"name": recipe_version.recipe.name[:200], "steps": steps}
    return found


def _service_suffix(name: str) -> str:
    import re

    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (slug[-30:].strip("-") or "service") if slug else "service"


def _value_tree(session: Session, project_id: int, connections: dict[int, str]) -> dict[str, object] | None:
    nodes = value_service.list_nodes(session, project_id=project_id)
    goal = next((n for n in nodes if n.kind == "goal"), None)
    if goal is None:
        return None
    drivers = []
    for driver in (n for n in nodes if n.kind == "driver" and n.parent_id == goal.id):
        kpis = []
        for kpi in (n for n in nodes if n.kind == "kpi" and n.parent_id == driver.id):
            entry: dict[str, object] = {
                "name": {"en": kpi.name_en, "ko": kpi.name_ko}, "unit": kpi.unit or "unit",
                "baseline": kpi.baseline, "target": kpi.target, "value_per_unit": kpi.value_per_unit,
                "currency": kpi.currency, "direction": kpi.direction}
            if kpi.source and (kpi.source in SERVICE_SOURCES or kpi.source.startswith("scoring")):
                entry["source"] = kpi.source
            elif kpi.source == "feed" and kpi.connection_id in connections:
                entry.update(source="feed", connection=connections[kpi.connection_id],
                             feed_month_column=kpi.feed_month_column, feed_value_column=kpi.feed_value_column)
            kpis.append({k: v for k, v in entry.items() if v is not None})
        drivers.append({"name": {"en": driver.name_en, "ko": driver.name_ko}, "kpis": kpis})
    return {"goal": {"en": goal.name_en, "ko": goal.name_ko}, "drivers": drivers}
