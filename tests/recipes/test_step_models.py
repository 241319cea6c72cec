"""Steps as one discriminated union: every op round-trips to its stored JSON, the API documents each op, and bad
steps are refused with a message naming the step, its op and the field.
"""

from __future__ import annotations

from typing import Any, get_args

import polars as pl
import pytest
from fastapi.testclient import TestClient

from mlpilot.core.errors import InvalidInput
from mlpilot.recipes.steps import (
    CAST_TYPES,
    OPS,
    STEP_TYPES,
    CastStep,
    StepError,
    apply_steps,
    describe_step,
    dump_steps,
    validate_steps,
)
from tests.datasets.factories import create_project
from tests.recipes.factories import CLEAN_STEPS, create_recipe


def test_every_op_has_one_model_in_the_union() -> None:
    assert OPS == ("cast", "parse_date", "normalize_text", "impute", "duplicates", "outliers", "filter", "select",
                   "drop", "rename", "derive", "map_values", "mask_pii", "detect_pii")
    assert [t.example["op"] for t in STEP_TYPES] == list(OPS)
    assert tuple(CAST_TYPES) == get_args(CastStep.model_fields["to"].annotation)


@pytest.mark.parametrize("step_type", STEP_TYPES, ids=lambda t: t.example["op"])
def test_example_round_trips_to_the_stored_json(step_type: Any) -> None:
    example = step_type.example
    [model] = validate_steps([example])
    assert type(model) is step_type
    assert model.model_dump(mode="json") == example
    assert dump_steps([model]) == [example]
    assert model.model_dump_json() and describe_step(example) == model.describe()


@pytest.mark.parametrize("stored", [
    [*CLEAN_STEPS, {"op": "normalize_text", "unicode": None, "case": None}],  # null is kept: "no normalisation"
    [{"op": "mask_pii"}, {"op": "duplicates"}, {"op": "drop", "columns": ["a"]}],  # defaults are not written out
    [{"op": "cast", "column": "a", "to": "int", "note": "kept as written"}],  # keys recipes never read are kept
    [{"op": "outliers", "columns": ["a"], "method": "bounds", "lower": 1, "upper": 2.5}],  # ints stay ints
    [{"op": "map_values", "column": "k", "mapping": {"1": True, "2": 3, "3": None}, "unmapped": "null"}],
])
def test_stored_recipes_load_and_dump_unchanged(stored: list[dict[str, Any]]) -> None:
    assert dump_steps(validate_steps(stored)) == stored


def test_a_null_unicode_form_still_means_no_normalisation() -> None:
    frame = pl.DataFrame({"t": ["cafe\u0301"]})  # "é" decomposed
    out, _ = apply_steps(frame, dump_steps(validate_steps([{"op": "normalize_text", "unicode": None}])))
    assert out.collect()["t"].to_list() == ["cafe\u0301"]
    out, _ = apply_steps(frame, [{"op": "normalize_text"}])
    assert out.collect()["t"].to_list() == ["caf\u00e9"]


@pytest.mark.parametrize(("steps", "message"), [
    ([{"op": "select", "columns": ["a"]}, {"op": "explode", "column": "a"}],
     "Step 2: unknown op 'explode'; use one of cast, parse_date, normalize_text, impute, duplicates, outliers, "
     "filter, select, drop, rename, derive, map_values, mask_pii, detect_pii."),
    ([{"column": "a"}], "Step 1: unknown op None; use one of cast, "),
    ([{"op": "cast", "column": 5, "to": "int"}], "Step 1 (cast): 'column' must be a non-empty string."),
    ([{"op": "cast", "column": "a"}], "Step 1 (cast): 'to' must be one of 'int', 'float', 'string', 'bool', 'date', "
                                      "'datetime'; got None."),
    ([{"op": "drop", "columns": "a"}], "Step 1 (drop): 'columns' must be a non-empty list of column names."),
    ([{"op": "outliers", "columns": ["a"], "k": "2"}], "Step 1 (outliers): 'k' must be a number; got '2'."),
    ([{"op": "outliers", "columns": ["a"], "upper": True}], "Step 1 (outliers): 'upper' must be a number; got True."),
    ([{"op": "normalize_text", "trim": "no"}], "Step 1 (normalize_text): 'trim' must be true or false; got 'no'."),
    ([{"op": "normalize_text", "unicode": "NFX"}],
     "Step 1 (normalize_text): 'unicode' must be one of 'NFC', 'NFKC', 'NFD', 'NFKD', None; got 'NFX'."),
    ([{"op": "map_values", "column": "a", "mapping": {"x": [1]}}],
     "Step 1 (map_values): 'mapping' must be an object of value → replacement."),
    ([{"op": "map_values", "column": "a", "mapping": {"x": 1}, "unmapped": "default"}],
     "Step 1 (map_values): unmapped 'default' needs a 'default' value."),
    ([{"op": "impute", "columns": ["a"], "strategy": "constant", "value": {"x": 1}}],
     "Step 1 (impute): 'value' must be a single value (text, number, true/false or null); got {'x': 1}."),
    ([{"op": "rename", "mapping": {"a": ""}}], "Step 1 (rename): 'mapping' must be an object of old name → new name."),
    ([{"op": "detect_pii", "kinds": "rrn"}],
     "Step 1 (detect_pii): 'kinds' must be a list out of rrn, phone, email, card, account."),
    ([{"op": "parse_date", "column": "d", "formats": []}],
     "Step 1 (parse_date): 'formats' must be a list of strftime formats such as \"%Y-%m-%d\"."),
])
def test_bad_steps_name_the_step_op_and_field(steps: list[Any], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_steps(steps)
    assert caught.value.detail.startswith(message), caught.value.detail


def test_an_expression_that_does_not_parse_is_a_step_error() -> None:
    with pytest.raises(StepError, match=r"^Step 1 \(derive\): Expression 'a \+', position"):
        validate_steps([{"op": "derive", "column": "x", "expr": "a +"}])


def test_describe_step_accepts_models_and_tolerates_bad_objects() -> None:
    [model] = validate_steps([{"op": "cast", "column": "a", "to": "int"}])
    assert describe_step(model) == describe_step(model.model_dump()) == "cast a to int (on error: fail)"
    assert describe_step({"op": "cast"}) == "cast"


def test_openapi_documents_every_op_in_a_discriminator_mapping(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    bodies = {"RecipeCreate": "steps", "RecipeVersionCreate": "steps", "PreviewRequest": "steps"}
    for name, field in bodies.items():
        prop = schemas[name]["properties"][field]
        items = next(option for option in prop.get("anyOf", [prop]) if option.get("type") == "array")["items"]
        mapping = items["discriminator"]["mapping"]
        assert items["discriminator"]["propertyName"] == "op"
        assert sorted(mapping) == sorted(OPS), name
    read = next(s for n, s in schemas.items() if n.startswith("RecipeVersionRead"))
    assert sorted(read["properties"]["steps"]["items"]["discriminator"]["mapping"]) == sorted(OPS)
    cast = schemas[mapping["cast"].rsplit("/", 1)[-1]]
    assert cast["properties"]["to"]["enum"] == list(CAST_TYPES) and set(cast["required"]) == {"op", "column", "to"}


def test_api_refuses_bad_steps_with_the_step_message_and_returns_them_as_written(client: TestClient) -> None:
    pid = create_project(client)
    bad = client.post(f"/api/v1/projects/{pid}/recipes",
                      json={"name": "x", "steps": [{"op": "cast", "column": "a", "to": "int"}, {"op": "zip"}]})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("Step 2: unknown op 'zip'; use one of cast")
    wrong = client.post(f"/api/v1/projects/{pid}/recipes",
                        json={"name": "x", "steps": [{"op": "outliers", "columns": ["a"], "k": "big"}]})
    assert wrong.status_code == 422 and wrong.json()["detail"] == "Step 1 (outliers): 'k' must be a number; got 'big'."
    not_list = client.post(f"/api/v1/projects/{pid}/recipes", json={"name": "x", "steps": {"op": "cast"}})
    assert not_list.status_code == 422 and "must be a JSON list" in not_list.json()["detail"]
    steps = [*CLEAN_STEPS, {"op": "normalize_text", "unicode": None}]
    recipe = create_recipe(client, pid, steps)
    assert recipe["versions"][0]["steps"] == steps
    assert client.get(f"/api/v1/recipes/{recipe['id']}").json()["versions"][0]["steps"] == steps


def test_a_column_listed_twice_in_duplicates_is_named_not_a_server_error() -> None:
    with pytest.raises(StepError, match=r"^Step 1 \(duplicates\): a column is listed twice\."):
        apply_steps(pl.DataFrame({"a": [1, 1]}), [{"op": "duplicates", "subset": ["a", "a"]}])
