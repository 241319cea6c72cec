"""A real Chromium adds a manual risk on the register page and sees a risk raised from the plan's evidence."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from mlpilot.core import jobs
from mlpilot.core.runtime import Runtime
from tests.conftest import ADMIN_PASSWORD
from tests.projects.factories import api_project

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


def test_add_a_manual_risk_and_see_a_detected_one(client: TestClient, runtime: Runtime, live_server_url: str,
                                                  page: Page, tmp_path: Path) -> None:  # noqa: F811
    project = api_project(client, name="Browser risks")
    pid = project["id"]
    today = dt.date.today()
    client.post(f"/api/v1/projects/{pid}/milestones", json={
        "name": "Interim report", "start_date": (today - dt.timedelta(days=14)).isoformat(),
        "due_date": (today - dt.timedelta(days=3)).isoformat()})

    page.goto(f"{live_server_url}/login?next=/projects/{pid}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server_url}/projects/{pid}")
    page.get_by_test_id("risks-link").click()
    expect(page.locator("h1")).to_contain_text("Risks and issues")

    form = page.get_by_test_id("add-risk")
    form.locator("input[name=title]").fill("The client's labels disagree")
    form.locator("select[name=probability]").select_option("4")
    form.locator("select[name=impact]").select_option("4")
    form.locator("textarea[name=mitigation]").fill("Agree a labelling guide with the client")
    form.get_by_role("button", name="Add risk").click()
    table = page.get_by_test_id("risk-table")
    expect(table).to_contain_text("The client's labels disagree")
    expect(page.get_by_test_id("heatmap")).to_have_attribute("data-drawn", "1", timeout=15000)

    page.get_by_test_id("scan").click()
    notice = page.get_by_role("status")
    expect(notice).to_contain_text("Scan queued as job")
    job_id = int(re.search(r"job (\d+)", notice.inner_text()).group(1))
    assert jobs.wait_for_job(runtime, job_id, timeout=60).state == "succeeded"
    page.reload()
    detected = page.locator("tr[data-risk-source=milestone_late]")
    expect(detected).to_contain_text("Interim report")
    expect(detected).to_contain_text("Milestone projected late")
    expect(detected.get_by_role("link", name="Evidence")).to_have_attribute("href", f"/projects/{pid}#section-plan")

    page.get_by_test_id("risk-filters").locator("select[name=source]").select_option("manual")
    expect(page).to_have_url(re.compile(r"source=manual"))
    expect(page.get_by_test_id("risk-table")).not_to_contain_text("Interim report")
    expect(page.get_by_test_id("risk-table")).to_contain_text("The client's labels disagree")
    page.screenshot(path=str(tmp_path / "risks.png"), full_page=True)
