"""Web pages of the recipes domain: the project section, the recipe page with its steps, a before/after preview
on a sample with per-step row counts, saving a new version, and applying it as a job with progress.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core import jobs
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.recipes import service
from mlpilot.recipes.forms import builder_schema
from mlpilot.recipes.models import Recipe
from mlpilot.recipes.steps import OPS, describe_step
from mlpilot.web import access
from mlpilot.web.pages import PageUser, page_gettext, render

router = APIRouter(include_in_schema=False)
PREVIEW_ROWS = 200
SHOWN_ROWS = 20
EXAMPLE_STEPS = [
    {"op": "normalize_text", "unicode": "NFKC"},
    {"op": "duplicates", "action": "drop"},
    {"op": "mask_pii"},
]


def _can_write(user: User) -> bool:
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]


def _parse_steps(text: str) -> list[dict[str, Any]]:
    try:
        steps = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The steps are not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}.") \
            from None
    if not isinstance(steps, list):
        raise InvalidInput("The steps must be a JSON list of step objects, e.g. [{\"op\": \"mask_pii\"}].")
    return steps


def _section(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
             status_code: int = 200, form: dict[str, str] | None = None,
             template: str = "recipes/_section.html") -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    return render(request, template, user=user, p=project,
                  recipes=service.list_recipes(session, project_id=project_id), error=error,
                  can_write=_can_write(user), status_code=status_code,
                  form=form or {"name": "", "steps": json.dumps(EXAMPLE_STEPS, indent=2)})


@router.get("/projects/{project_id}/_section/recipes", response_class=HTMLResponse, dependencies=[access.Project.read])
def recipes_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


@router.post("/projects/{project_id}/recipes/new", dependencies=[access.Project.write])
def create_from_form(project_id: int, request: Request, session: DbSession, user: PageUser,
                     name: Annotated[str, Form()] = "", steps: Annotated[str, Form()] = "",
                     description: Annotated[str, Form()] = "") -> Response:
    try:
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        recipe = service.create_recipe(session, project_id=project_id, name=name, steps=_parse_steps(steps),
                                       user_id=user.id, description=description)
    except (InvalidInput, Conflict) as exc:
        return _section(request, session, user, project_id, error=exc.detail, status_code=exc.status,
                        form={"name": name, "steps": steps}, template="recipes/create_error.html")
    return RedirectResponse(f"/recipes/{recipe.id}", status_code=303)


def _page_context(request: Request, session: DbSession, user: User, recipe: Recipe,
                  version_number: int | None) -> dict[str, Any]:
    project = projects_service.check_project_access(session, project_id=recipe.project_id, user=user)
    version = service.find_recipe_version(session, recipe_id=recipe.id, version=version_number)
    sources = datasets_service.list_project_versions(session, project_id=recipe.project_id)
    translate = page_gettext(request, user)
    return {"r": recipe, "p": project, "version": version,
            "steps": [{"step": s, "label": describe_step(s), "disabled": bool(s.get("disabled"))}
                      for s in version.steps],
            "steps_json": json.dumps(version.steps, indent=2, ensure_ascii=False), "sources": sources,
            "ops": OPS, "can_write": _can_write(user), "preview_rows": PREVIEW_ROWS,
            "builder_schema": builder_schema(translate),
            "source_columns": {str(s.id): [c["name"] for c in s.schema] for s in sources}}


@router.get("/recipes/{recipe_id}", response_class=HTMLResponse, dependencies=[access.Recipe.read])
def recipe_page(recipe_id: int, request: Request, session: DbSession, user: PageUser,
                version: int | None = None, job: int | None = None) -> HTMLResponse:
    recipe = service.get_recipe(session, recipe_id=recipe_id)
    context = _page_context(request, session, user, recipe, version)
    return render(request, "recipes/detail.html", user=user, job_id=job, error=None, **context)


@router.post("/recipes/{recipe_id}/versions/new", dependencies=[access.Recipe.write])
def save_version_from_form(recipe_id: int, request: Request, session: DbSession, user: PageUser,
                           steps: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    recipe = service.get_recipe(session, recipe_id=recipe_id)
    try:
        projects_service.check_project_access(session, project_id=recipe.project_id, user=user, write=True)
        version = service.add_recipe_version(session, recipe_id=recipe_id, steps=_parse_steps(steps),
                                             user_id=user.id, note=note)
    except InvalidInput as exc:
        context = _page_context(request, session, user, recipe, None)
        context["steps_json"] = steps
        return render(request, "recipes/detail.html", user=user, job_id=None, error=exc.detail,
                      status_code=exc.status, **context)
    return RedirectResponse(f"/recipes/{recipe_id}?version={version.version}", status_code=303)


@router.post("/recipes/{recipe_id}/_preview", response_class=HTMLResponse, dependencies=[access.Recipe.read])
def preview_fragment(recipe_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                     dataset_version_id: Annotated[int, Form()], version: Annotated[int | None, Form()] = None,
                     steps: Annotated[str | None, Form(max_length=200_000)] = None) -> HTMLResponse:
    """Preview a saved version, or (with `steps`, the builder's unsaved steps as JSON) what is being edited."""
    recipe = service.get_recipe(session, recipe_id=recipe_id)
    projects_service.check_project_access(session, project_id=recipe.project_id, user=user)
    try:
        source = datasets_service.get_dataset_version(session, version_id=dataset_version_id)
        if source.dataset.project_id != recipe.project_id:
            raise InvalidInput(f"Dataset version {dataset_version_id} belongs to another project.")
        if steps is not None:
            result = service.preview_recipe(session, store=runtime.store, steps=_parse_steps(steps),
                                            dataset_version_id=dataset_version_id, sample_rows=PREVIEW_ROWS)
        else:
            chosen = service.find_recipe_version(session, recipe_id=recipe_id, version=version)
            result = service.preview_recipe(session, store=runtime.store, recipe_version_id=chosen.id,
                                            dataset_version_id=dataset_version_id, sample_rows=PREVIEW_ROWS)
    except (InvalidInput, NotFound) as exc:
        return render(request, "recipes/_preview.html", user=user, result=None, error=exc.detail)
    return render(request, "recipes/_preview.html", user=user, result=result, error=result["error"],
                  shown=SHOWN_ROWS)


@router.post("/recipes/{recipe_id}/apply-form", dependencies=[access.Recipe.write])
def apply_from_form(recipe_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                    dataset_version_id: Annotated[int, Form()], version: Annotated[int, Form()],
                    output_name: Annotated[str, Form()] = "") -> Response:
    recipe = service.get_recipe(session, recipe_id=recipe_id)
    try:
        projects_service.check_project_access(session, project_id=recipe.project_id, user=user, write=True)
        chosen = service.find_recipe_version(session, recipe_id=recipe_id, version=version)
        job = service.run_recipe(session, runtime=runtime, recipe_version_id=chosen.id,
                                 dataset_version_id=dataset_version_id, user_id=user.id,
                                 output_name=output_name.strip() or None)
    except (InvalidInput, NotFound) as exc:
        context = _page_context(request, session, user, recipe, version)
        return render(request, "recipes/detail.html", user=user, job_id=None, error=exc.detail,
                      status_code=exc.status, **context)
    return RedirectResponse(f"/recipes/{recipe_id}?version={version}&job={job.id}", status_code=303)


@router.get("/recipes/{recipe_id}/_job/{job_id}", response_class=HTMLResponse,
        dependencies=[access.Recipe.read, access.Job.read])
def job_fragment(recipe_id: int, job_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    recipe = service.get_recipe(session, recipe_id=recipe_id)
    projects_service.check_project_access(session, project_id=recipe.project_id, user=user)
    job = jobs.get_job(session, job_id=job_id)
    if job.kind != service.APPLY_JOB or job.project_id != recipe.project_id:
        raise NotFound(f"Job {job_id} is not a run of recipe {recipe.name!r}.")
    return render(request, "recipes/_job.html", user=user, r=recipe, job=job)
