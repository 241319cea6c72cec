"""REST routes of the recipes domain: recipes and their versions, preview on a sample, apply as a job."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import CurrentUser
from mlpilot.accounts.models import User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess, ProjectWriteAccess
from mlpilot.recipes import service
from mlpilot.recipes.models import Recipe
from mlpilot.recipes.schemas import (
    ApplyRequest,
    ApplyResult,
    PreviewRead,
    PreviewRequest,
    RecipeCreate,
    RecipeDetail,
    RecipeRead,
    RecipeVersionCreate,
    RecipeVersionRead,
)
from mlpilot.web import access

router = APIRouter(tags=["recipes"])


def _recipe_read(recipe: Recipe) -> RecipeRead:
    latest = recipe.versions[-1].version if recipe.versions else None
    return RecipeRead.model_validate(recipe).model_copy(update={"latest_version": latest})


def _detail(recipe: Recipe) -> RecipeDetail:
    return RecipeDetail(**_recipe_read(recipe).model_dump(),
                        versions=[RecipeVersionRead.model_validate(v) for v in recipe.versions])


def _accessible(session: DbSession, user: User, recipe_id: int, *, write: bool = False) -> Recipe:
    recipe = service.get_recipe(session, recipe_id=recipe_id)
    projects_service.check_project_access(session, project_id=recipe.project_id, user=user, write=write)
    return recipe


def _check_source(session: DbSession, recipe: Recipe, dataset_version_id: int) -> None:
    source = datasets_service.get_dataset_version(session, version_id=dataset_version_id)
    if source.dataset.project_id != recipe.project_id:
        raise InvalidInput(f"Dataset version {dataset_version_id} belongs to another project than recipe "
                           f"{recipe.name!r}.")


@router.post("/projects/{project_id}/recipes", response_model=RecipeDetail, status_code=201)
def create_recipe(body: RecipeCreate, project: ProjectWriteAccess, session: DbSession,
                  user: CurrentUser) -> RecipeDetail:
    recipe = service.create_recipe(session, project_id=project.id, name=body.name, steps=body.steps,
                                   user_id=user.id, description=body.description, note=body.note)
    return _detail(recipe)


@router.get("/projects/{project_id}/recipes", response_model=list[RecipeRead])
def list_recipes(project: ProjectAccess, session: DbSession) -> list[RecipeRead]:
    return [_recipe_read(r) for r in service.list_recipes(session, project_id=project.id)]


@router.get("/recipes/{recipe_id}", response_model=RecipeDetail, dependencies=[access.Recipe.read])
def get_recipe(recipe_id: int, session: DbSession, user: CurrentUser) -> RecipeDetail:
    return _detail(_accessible(session, user, recipe_id))


@router.post("/recipes/{recipe_id}/versions", response_model=RecipeVersionRead, status_code=201,
        dependencies=[access.Recipe.write])
def add_recipe_version(recipe_id: int, body: RecipeVersionCreate, session: DbSession,
                       user: CurrentUser) -> RecipeVersionRead:
    _accessible(session, user, recipe_id, write=True)
    version = service.add_recipe_version(session, recipe_id=recipe_id, steps=body.steps, user_id=user.id,
                                         note=body.note)
    return RecipeVersionRead.model_validate(version)


@router.post("/recipes/{recipe_id}/preview", response_model=PreviewRead, dependencies=[access.Recipe.read])
def preview_recipe(recipe_id: int, body: PreviewRequest, session: DbSession, runtime: RuntimeDep,
                   user: CurrentUser) -> PreviewRead:
    recipe = _accessible(session, user, recipe_id)
    _check_source(session, recipe, body.dataset_version_id)
    if body.steps is not None:
        result = service.preview_recipe(session, store=runtime.store, steps=body.steps,
                                        dataset_version_id=body.dataset_version_id, sample_rows=body.sample_rows)
    else:
        version = service.find_recipe_version(session, recipe_id=recipe_id, version=body.version)
        result = service.preview_recipe(session, store=runtime.store, recipe_version_id=version.id,
                                        dataset_version_id=body.dataset_version_id, sample_rows=body.sample_rows)
    return PreviewRead(**result)


@router.post("/recipes/{recipe_id}/apply", response_model=ApplyResult, status_code=202,
        dependencies=[access.Recipe.write])
def apply_recipe(recipe_id: int, body: ApplyRequest, session: DbSession, runtime: RuntimeDep,
                 user: CurrentUser) -> ApplyResult:
    _accessible(session, user, recipe_id, write=True)
    version = service.find_recipe_version(session, recipe_id=recipe_id, version=body.version)
    job = service.run_recipe(session, runtime=runtime, recipe_version_id=version.id,
                             dataset_version_id=body.dataset_version_id, user_id=user.id,
                             output_name=body.output_name)
    return ApplyResult(job_id=job.id, recipe_version_id=version.id, dataset_version_id=body.dataset_version_id,
                       output_name=job.params["output_name"])
