"""The step builder's forms come from the typed step schema; disabled steps are skipped; the preview reports the
rows and cells each step changes."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from mlpilot.recipes.forms import FIELD_HINTS, FIELD_LABELS, OP_LABELS, builder_schema, step_forms
from mlpilot.recipes.steps import OPS, STEP_TYPES, apply_steps, validate_steps
from tests.datasets.factories import create_project
from tests.datasets.test_views import login
from tests.recipes.factories import create_recipe, dirty_frame, upload_frame


def test_every_step_kind_has_a_form_from_its_schema() -> None:
    forms = {f.op: f for f in step_forms()}
    assert list(forms) == list(OPS) and set(OP_LABELS) == set(OPS)
    widgets = {(f.op, x.name): x for f in forms.values() for x in f.fields}
    assert widgets[("cast", "column")].widget == "column" and widgets[("cast", "column")].required
    assert widgets[("cast", "to")].choices == ["int", "float", "string", "bool", "date", "datetime"]
    assert widgets[("cast", "on_error")].default == "fail" and not widgets[("cast", "on_error")].required
    assert widgets[("derive", "column")].widget == "new_column"
    assert widgets[("impute", "columns")].widget == "columns"
    assert widgets[("impute", "value")].widget == "value"
    assert widgets[("outliers", "k")].widget == "number"
    assert widgets[("normalize_text", "trim")].widget == "switch" and widgets[("normalize_text", "trim")].default
    assert widgets[("normalize_text", "case")].optional_choice
    assert widgets[("mask_pii", "kinds")].choices == ["rrn", "phone", "email", "card", "account"]
    assert widgets[("rename", "mapping")].widget == "mapping"
    assert widgets[("filter", "expr")].widget == "expression"
    # Every field has a label and every description of the schema is marked for translation.
    for model in STEP_TYPES:
        for name, prop in model.model_json_schema()["properties"].items():
            assert name == "op" or name in FIELD_LABELS, name
            assert "description" not in prop or prop["description"] in FIELD_HINTS, prop["description"]
    translated = builder_schema(lambda text: f"<{text}>")
    assert translated[0]["label"] == "<Change type>"


def test_a_disabled_step_is_kept_and_skipped() -> None:
    steps = [{"op": "drop", "columns": ["memo"], "disabled": True}, {"op": "impute", "columns": ["spend"],
                                                                      "strategy": "constant", "value": 0.0}]
    assert validate_steps(steps)[0].stored() == steps[0]
    out, reports = apply_steps(dirty_frame(), steps, track=True)
    assert "memo" in out.collect().columns
    assert reports[0].skipped and reports[0].rows_out == 8
    assert (reports[1].cells_changed, reports[1].cells_filled) == (1, 1)
    bad = client_free_error(lambda: validate_steps([{"op": "drop", "columns": ["a"], "disabled": "yes"}]))
    assert bad == "Step 1 (drop): 'disabled' must be true or false; got 'yes'."


def client_free_error(call) -> str:  # noqa: ANN001 - a callable
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        return str(getattr(exc, "detail", exc))
    return ""


def test_preview_reports_changed_rows_cells_and_removed_rows(client: TestClient) -> None:
    pid = create_project(client)
    source = upload_frame(client, pid, dirty_frame())
    recipe = create_recipe(client, pid, [{"op": "duplicates"}])
    steps = [{"op": "normalize_text", "columns": ["name"]}, {"op": "duplicates"},
             {"op": "impute", "columns": ["spend"], "strategy": "constant", "value": 1.5}]
    preview = client.post(f"/api/v1/recipes/{recipe['id']}/preview",
                          json={"dataset_version_id": source, "steps": steps}).json()
    changes = preview["changes"]
    assert (changes["rows_changed"], changes["rows_removed"], changes["cells_changed"]) == (2, 1, 2)
    assert changes["removed"] == [8]
    by_row = {r["row"]: r for r in changes["rows"]}
    assert by_row[1]["before"] == {"name": " 김 민수 "} and by_row[1]["values"]["name"] == "김 민수"
    assert by_row[3]["before"] == {"spend": None} and by_row[3]["values"]["spend"] == 1.5
    assert [(s["cells_changed"], s["rows_in"] - s["rows_out"]) for s in preview["steps"]] == [(1, 0), (0, 1), (1, 0)]

    # The page's preview of unsaved steps: highlighted cells; bad JSON is a message, not a 500.
    login(client)
    page = client.post(f"/recipes/{recipe['id']}/_preview",
                       data={"dataset_version_id": source, "steps": json.dumps(steps)})
    assert page.status_code == 200 and 'class="cell-changed" data-column="spend"' in page.text
    broken = client.post(f"/recipes/{recipe['id']}/_preview", data={"dataset_version_id": source, "steps": "[{"})
    assert broken.status_code == 200 and "The steps are not valid JSON" in broken.text
    huge = client.post(f"/recipes/{recipe['id']}/_preview",
                       data={"dataset_version_id": source, "steps": "[" + " " * 300_000 + "]"})
    assert huge.status_code == 422
