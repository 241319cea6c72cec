"""The recipes service below HTTP: append-only versions, and the pure apply used by the feeder."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy.orm import Session

from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.recipes import service
from mlpilot.recipes.steps import StepError
from tests.projects.factories import make_project, make_user


def test_versions_are_append_only_and_apply_recipe_frame(session: Session) -> None:
    user = make_user(session)
    project = make_project(session, user=user)
    recipe = service.create_recipe(session, project_id=project.id, name="tidy", user_id=user.id,
                                   steps=[{"op": "filter", "expr": "n > 1"}])
    second = service.add_recipe_version(session, recipe_id=recipe.id, user_id=user.id, note="double",
                                        steps=[{"op": "derive", "column": "m", "expr": "n * 2"}])
    assert second.version == 2
    first = service.find_recipe_version(session, recipe_id=recipe.id, version=1)
    assert first.steps == [{"op": "filter", "expr": "n > 1"}]
    assert service.find_recipe_version(session, recipe_id=recipe.id).id == second.id
    assert service.get_recipe_version(session, recipe_version_id=second.id).recipe.name == "tidy"

    frame = pl.DataFrame({"n": [1, 2, 3]})
    out, reports = service.apply_recipe_frame(session, recipe_version_id=first.id, frame=frame)
    assert out.collect()["n"].to_list() == [2, 3] and (reports[0].rows_in, reports[0].rows_out) == (3, 2)
    out, _ = service.apply_recipe_frame(session, recipe_version_id=second.id, frame=frame.lazy())
    assert out.collect()["m"].to_list() == [2, 4, 6]
    with pytest.raises(StepError, match="Step 1 \\(derive\\): Expression 'n \\* 2', position 1: unknown column 'n'"):
        service.apply_recipe_frame(session, recipe_version_id=second.id, frame=pl.DataFrame({"x": [1]}))

    with pytest.raises(NotFound, match="has no version 7; it has versions 1, 2"):
        service.find_recipe_version(session, recipe_id=recipe.id, version=7)
    with pytest.raises(Conflict, match="already has a recipe named 'tidy'"):
        service.create_recipe(session, project_id=project.id, name="tidy", steps=[], user_id=user.id)
    with pytest.raises(InvalidInput, match="needs a name"):
        service.create_recipe(session, project_id=project.id, name="  ", steps=[], user_id=user.id)
    with pytest.raises(NotFound, match="Recipe version 9999 does not exist"):
        service.apply_recipe_frame(session, recipe_version_id=9999, frame=frame)
    assert [r.name for r in service.list_recipes(session, project_id=project.id)] == ["tidy"]
