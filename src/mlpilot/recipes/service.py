"""Use cases of the recipes domain: define versioned recipes, preview them on a sample, and apply them to a
dataset version as a job that writes a new dataset version with lineage.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mlpilot.core import jobs
from mlpilot.core.db import get_existing, session_scope, unit_of_work
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.core.jobs import JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.recipes.models import Recipe, RecipeVersion
from mlpilot.recipes.steps import (
    ROW_ID,
    StepBase,
    StepError,
    StepReport,
    apply_steps,
    as_text,
    dump_steps,
    validate_steps,
)

APPLY_JOB = "recipes.apply"
PREVIEW_MAX_ROWS = 5000
CHANGED_ROWS_SHOWN = 100


def _clean_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(f"A {what} needs a name (field 'name').")
    if len(name) > 200:
        raise InvalidInput(f"The {what} name is longer than 200 characters.")
    return name


def list_recipes(session: Session, *, project_id: int) -> list[Recipe]:
    """Return the project's recipes with their versions, by name."""
    stmt = (select(Recipe).where(Recipe.project_id == project_id).options(selectinload(Recipe.versions))
            .order_by(Recipe.name))
    return list(session.scalars(stmt))


def get_recipe(session: Session, *, recipe_id: int) -> Recipe:
    """Return recipe `recipe_id` with its versions."""
    return get_existing(session, Recipe, recipe_id, "Recipe", options=[selectinload(Recipe.versions)])


def get_recipe_version(session: Session, *, recipe_version_id: int) -> RecipeVersion:
    """Return recipe version `recipe_version_id` (its recipe is loaded too)."""
    return get_existing(session, RecipeVersion, recipe_version_id, "Recipe version",
                        options=[selectinload(RecipeVersion.recipe)])


def find_recipe_version(session: Session, *, recipe_id: int, version: int | None = None) -> RecipeVersion:
    """Return version number `version` of a recipe, or its latest version when `version` is None."""
    recipe = get_recipe(session, recipe_id=recipe_id)
    if not recipe.versions:
        raise NotFound(f"Recipe {recipe.name!r} has no versions yet.")
    if version is None:
        return recipe.versions[-1]
    for candidate in recipe.versions:
        if candidate.version == version:
            return candidate
    raise NotFound(f"Recipe {recipe.name!r} has no version {version}; it has versions "
                   f"{', '.join(str(v.version) for v in recipe.versions)}.")


RawSteps = Sequence[StepBase | Mapping[str, object]]


def create_recipe(session: Session, *, project_id: int, name: str, steps: RawSteps,
                  user_id: int | None, description: str = "", note: str = "") -> Recipe:
    """Create a recipe with its first version of steps (step models or their JSON objects)."""
    projects_service.get_project(session, project_id=project_id)
    name = _clean_name(name, "recipe")
    stored = dump_steps(validate_steps(steps))
    with unit_of_work(session):
        if session.scalar(select(Recipe.id).where(Recipe.project_id == project_id, Recipe.name == name)):
            raise Conflict(f"The project already has a recipe named {name!r}; add a version to it instead.")
        recipe = Recipe(project_id=project_id, name=name, description=description or "", created_by_id=user_id)
        session.add(recipe)
        session.flush()
        session.add(RecipeVersion(recipe_id=recipe.id, version=1, steps=stored, note=note or "",
                                  created_by_id=user_id))
    session.expire(recipe, ["versions"])
    return get_recipe(session, recipe_id=recipe.id)


def add_recipe_version(session: Session, *, recipe_id: int, steps: RawSteps, user_id: int | None,
                       note: str = "") -> RecipeVersion:
    """Record edited steps as the recipe's next version (earlier versions never change)."""
    recipe = get_recipe(session, recipe_id=recipe_id)
    stored = dump_steps(validate_steps(steps))
    with unit_of_work(session):
        latest = session.scalar(select(func.max(RecipeVersion.version))
                                .where(RecipeVersion.recipe_id == recipe.id)) or 0
        version = RecipeVersion(recipe_id=recipe.id, version=latest + 1, steps=stored, note=note or "",
                                created_by_id=user_id)
        session.add(version)
    session.expire(recipe, ["versions"])
    return version


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _sample(frame: pl.DataFrame) -> dict[str, Any]:
    return {"columns": frame.columns, "dtypes": [str(t) for t in frame.dtypes],
            "rows": _json_safe(frame.to_dicts())}


def _reports(reports: list[StepReport]) -> list[dict[str, Any]]:
    return [_json_safe(r.to_dict()) for r in reports]


def _source_frame(session: Session, *, store: ArtifactStore, dataset_version_id: int) -> pl.LazyFrame:
    return datasets_service.scan_dataset_version(session, store=store, version_id=dataset_version_id)


def preview_recipe(session: Session, *, store: ArtifactStore, dataset_version_id: int,
                   recipe_version_id: int | None = None, steps: RawSteps | None = None,
                   sample_rows: int = 200) -> dict[str, Any]:
    """Apply a recipe version (or unsaved steps) to the first rows of a dataset version; return before/after.

    A step failing on the sample is reported in `error` with the reports of the steps before it.
    """
    if (recipe_version_id is None) == (steps is None):
        raise InvalidInput("Preview either a saved recipe version or a list of steps (exactly one of them).")
    if not 1 <= sample_rows <= PREVIEW_MAX_ROWS:
        raise InvalidInput(f"sample_rows must be between 1 and {PREVIEW_MAX_ROWS}; got {sample_rows}.")
    if recipe_version_id is not None:
        steps = get_recipe_version(session, recipe_version_id=recipe_version_id).steps
    parsed = validate_steps(steps)
    before = _source_frame(session, store=store, dataset_version_id=dataset_version_id).head(sample_rows).collect()
    result: dict[str, Any] = {"dataset_version_id": dataset_version_id, "sample_rows": before.height,
                              "before": _sample(before), "after": None, "steps": [], "changes": None,
                              "error": None}
    try:
        tracked, reports = apply_steps(before.lazy(), parsed, track=True, keep_row_id=True)
    except StepError as exc:
        result.update(steps=_reports(exc.reports or []), error=exc.detail)
        return result
    after = tracked.collect()
    result.update(after=_sample(after.drop(ROW_ID)), steps=_reports(reports), changes=_changes(before, after))
    return result


def _changes(before: pl.DataFrame, after: pl.DataFrame) -> dict[str, Any]:
    """The rows a recipe changed (with the old value of each changed cell) and removed, on a preview sample.

    Values are compared as text, so a cast that keeps the written value ("12" → 12) is no change.
    """
    numbered = before.with_row_index(ROW_ID, offset=1)
    old = pl.DataFrame([numbered.get_column(ROW_ID), *[as_text(before.get_column(c)) for c in before.columns]])
    joined = after.select(ROW_ID).join(old, on=ROW_ID, how="left")
    columns = [c for c in after.columns if c != ROW_ID]
    differs = {}
    for column in columns:
        new = as_text(after.get_column(column))
        if column in joined.columns:
            differs[column] = new.ne_missing(joined.get_column(column))
        else:
            differs[column] = new.is_not_null()
    any_change = pl.Series([False] * after.height)
    for mask in differs.values():
        any_change = any_change | mask
    changed_at = any_change.arg_true().to_list()
    kept = set(after.get_column(ROW_ID).to_list())
    removed = [r for r in range(1, before.height + 1) if r not in kept]
    rows = []
    for position in changed_at[:CHANGED_ROWS_SHOWN]:
        values = after.row(position, named=True)
        cells = {c: (joined.get_column(c)[position] if c in joined.columns else None)
                 for c in columns if differs[c][position]}
        rows.append({"row": values.pop(ROW_ID), "values": _json_safe(values), "before": _json_safe(cells)})
    return {"columns": columns, "rows_changed": len(changed_at), "rows_removed": len(removed),
            "cells_changed": int(sum(int(m.sum()) for m in differs.values())), "removed": removed[:CHANGED_ROWS_SHOWN],
            "rows": rows}


def apply_recipe_frame(session: Session, *, recipe_version_id: int,
                       frame: pl.LazyFrame | pl.DataFrame) -> tuple[pl.LazyFrame, list[StepReport]]:
    """Apply a stored recipe version to a frame; raise StepError naming the step, column and rows on failure."""
    version = get_recipe_version(session, recipe_version_id=recipe_version_id)
    return apply_steps(frame, version.steps)


def default_output_name(*, dataset_name: str, recipe_name: str) -> str:
    """Return the dataset name a recipe run writes to unless told otherwise."""
    return f"{dataset_name}-{recipe_name}"[:200]


def run_recipe(session: Session, *, runtime: Runtime, recipe_version_id: int, dataset_version_id: int,
               user_id: int | None, output_name: str | None = None) -> jobs.Job:
    """Start a job that applies a recipe version to a dataset version and writes the result as a new version."""
    version = get_recipe_version(session, recipe_version_id=recipe_version_id)
    source = datasets_service.get_dataset_version(session, version_id=dataset_version_id)
    if source.dataset.project_id != version.recipe.project_id:
        raise InvalidInput(f"Dataset version {dataset_version_id} belongs to another project than recipe "
                           f"{version.recipe.name!r}; use a dataset of the recipe's project.")
    name = (_clean_name(output_name, "output dataset") if output_name is not None
            else default_output_name(dataset_name=source.dataset.name, recipe_name=version.recipe.name))
    with unit_of_work(session):
        job = jobs.create_job(session, runtime=runtime, kind=APPLY_JOB,
                              params={"recipe_version_id": version.id, "dataset_version_id": dataset_version_id,
                                      "output_name": name},
                              user_id=user_id, project_id=version.recipe.project_id,
                              message=f"recipe {version.recipe.name} v{version.version} queued")
    return job


@job_handler(APPLY_JOB)
def _run_apply_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    with session_scope(ctx.runtime.sessions) as session:
        version = get_recipe_version(session, recipe_version_id=int(params["recipe_version_id"]))
        recipe = version.recipe
        source_id = int(params["dataset_version_id"])
        ctx.progress(0.1, "reading data", force=True)
        frame = _source_frame(session, store=ctx.runtime.store, dataset_version_id=source_id).collect(
            engine="streaming")
        rows_in = frame.height
        ctx.progress(0.3, f"applying {len(version.steps)} steps", force=True)
        out, reports = apply_steps(frame, version.steps)
        del frame  # the steps' result is all that is kept: the source's memory goes back before the write
        result = out.collect()
        for report in reports:
            ctx.log(f"step {report.step} {report.label}: {report.rows_in} → {report.rows_out} rows"
                    + (f", {report.flagged} flagged" if report.flagged else "")
                    + "".join(f"; {e}" for e in report.errors))
        ctx.progress(0.7, "writing the new dataset version", force=True)
        lineage = {
            "source": f"recipe:{recipe.name} v{version.version}",
            "connector": None,
            "connector_settings": {},
            "recipe": {"id": recipe.id, "name": recipe.name, "version": version.version,
                       "version_id": version.id},
            "parents": [source_id],
            "rows_in": rows_in,
            "rows_out": result.height,
            "quarantined_rows": 0,
            "watermark": None,
        }
        written, profile_job_id = datasets_service.create_dataset_version_from_frame(
            session, runtime=ctx.runtime, project_id=recipe.project_id, name=params["output_name"], frame=result,
            lineage=lineage, user_id=ctx.user_id,
            description=f"Cleaned by recipe {recipe.name} v{version.version}")
        return {"dataset_version_id": written.id, "dataset_id": written.dataset_id, "version": written.version,
                "profile_job_id": profile_job_id, "rows_in": rows_in, "rows_out": result.height,
                "steps": _reports(reports)}
