"""A real Chromium fills in the team from the 7-step plan, sees the gap-map heat map and the build-vs-managed
chart drawn, saves a member's role with the form, and reads the page in Korean."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD
from tests.projects.factories import api_project

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


def test_gap_map_and_comparison_chart(page: Page, client: TestClient, live_server_url: str) -> None:  # noqa: F811
    project = api_project(client, name="Team pilot")
    pid = project["id"]
    assert client.post(f"/api/v1/projects/{pid}/plan-from-template",
                       json={"template_key": "ai-7-step", "start_date": "2027-01-04"}).status_code == 201

    page.goto(f"{live_server_url}/login?next=/projects/{pid}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.click("#team-link")
    expect(page.locator("h1")).to_contain_text("Team and skills")
    expect(page.locator("main")).to_contain_text("Nothing to map yet")
    page.locator("#team-suggest-form button").click()
    expect(page.locator("#team-needs-table")).to_contain_text("Data engineer")

    heat = page.get_by_test_id("gap-map")
    expect(heat).to_be_visible()
    expect(heat.locator("tr[data-role=data_engineer] td.short").first).to_be_visible()  # nobody has the role yet
    expect(page.get_by_test_id("compare-chart")).to_have_attribute("data-drawn", "1")

    row = page.locator("#team-members-table tr[data-user=admin]")
    row.locator("select[name=role]").select_option("data_engineer")
    row.locator("input[name=capacity_percent]").fill("100")
    row.locator("select[name=skill_collect]").select_option("3")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#team-members-table tr[data-user=admin] select[name=role]")).to_have_value("data_engineer")
    # The admin's expert skill in collecting data covers what the step needs.
    expect(page.locator("#team-skills-table tr[data-step=collect]")).to_contain_text("covered")

    page.select_option("select[name=lang]", "ko")
    expect(page.locator("h1")).to_contain_text("팀과 역량")
    expect(page.get_by_test_id("gap-map")).to_contain_text("데이터 엔지니어")
    expect(page.get_by_test_id("compare-chart")).to_have_attribute("data-drawn", "1")
