"""A real Chromium builds a recipe with the step forms: add steps, reorder, disable, preview the changed cells, save."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD
from tests.projects.factories import api_project
from tests.recipes.factories import create_recipe, dirty_frame, upload_frame

pytestmark = pytest.mark.browser


def test_step_builder_adds_reorders_disables_and_previews(page: Page, client: TestClient,
                                                         live_server_url: str) -> None:
    project = api_project(client)
    upload_frame(client, project["id"], dirty_frame())
    recipe = create_recipe(client, project["id"], [{"op": "normalize_text", "columns": ["name"]}])

    page.goto(f"{live_server_url}/login?next=/recipes/{recipe['id']}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    steps = page.locator("#builder-steps > li")
    expect(steps).to_have_count(1)
    expect(steps.first).to_contain_text("Tidy text")

    # Add "fill missing values" with the form: columns are picked from the dataset's columns.
    page.select_option("#builder-add-op", "impute")
    page.get_by_role("button", name="Add step").click()
    expect(steps).to_have_count(2)
    second = steps.nth(1)
    second.get_by_label("spend", exact=True).check()
    second.get_by_label("Fill with *").select_option("median")

    # Move it first, then disable the text step (now second).
    second.get_by_role("button", name="Move up (Step 2)").click()
    expect(steps.first).to_contain_text("Fill missing values")
    steps.nth(1).get_by_label("Disabled").check()
    written = json.loads(page.locator("#builder-json").input_value())
    assert written == [{"op": "impute", "columns": ["spend"], "strategy": "median"},
                       {"op": "normalize_text", "columns": ["name"], "disabled": True}]

    # The preview shows the changed cell highlighted, and the disabled step as skipped.
    page.get_by_role("button", name="Preview these steps").click()
    result = page.locator("#builder-preview-result")
    changed = result.locator("#preview-changes td.cell-changed[data-column=spend]")
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text("12.0")
    expect(result.locator("#preview-steps tbody tr").nth(0).locator("td.step-filled")).to_have_text("1")
    expect(result.locator("#preview-steps tbody tr").nth(1)).to_contain_text("disabled")
    expect(result.locator("#preview-changes td[data-column=name]")).to_have_count(0)

    page.get_by_role("button", name="Save as new version").click()
    expect(page.locator("h1")).to_contain_text("v2")
    expect(page.locator("#recipe-steps li").nth(1)).to_contain_text("disabled")
    expect(page.locator("#builder-steps > li.is-disabled")).to_have_count(1)
