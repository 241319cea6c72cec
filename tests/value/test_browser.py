"""A real Chromium builds a small value tree with the forms, sees its actuals and charts, in English and Korean."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from mlpilot.core.db import utcnow
from mlpilot.core.runtime import Runtime
from tests.conftest import ADMIN_PASSWORD
from tests.projects.factories import api_project
from tests.value.factories import add_feedback, add_service, add_traffic

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


def test_build_a_value_tree_and_see_actuals(page: Page, client: TestClient, runtime: Runtime,  # noqa: F811
                                            live_server_url: str) -> None:
    project = api_project(client, name="Value pilot")
    add_service(runtime, project_id=project["id"], name="churn-svc")
    today = utcnow().date()
    add_traffic(runtime, service="churn-svc", day=today, requests=6)

    page.goto(f"{live_server_url}/login?next=/projects/{project['id']}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.click("#value-link")
    expect(page.locator("h1")).to_contain_text("Value tree")
    expect(page.locator("#value-body")).to_contain_text("No value tree yet")

    form = page.locator("#value-node-form")
    form.locator("select[name=kind]").select_option("goal")
    form.locator("input[name=name_ko]").fill("이탈 고객 감소")
    form.locator("input[name=name_en]").fill("Fewer churned customers")
    form.get_by_role("button", name="Add node").click()
    expect(page.locator("#value-tree")).to_contain_text("Fewer churned customers")

    # A KPI without its numbers comes back with the reason and the form kept.
    form = page.locator("#value-node-form")
    form.locator("select[name=kind]").select_option("kpi")
    form.locator("select[name=parent_id]").select_option(label="Fewer churned customers")
    form.locator("input[name=name_en]").fill("Requests served")
    form.locator("input[name=name_ko]").fill("처리 요청")
    form.locator("select[name=source]").select_option("requests")
    form.locator("select[name=service_name]").select_option("churn-svc")
    form.get_by_role("button", name="Add node").click()
    expect(page.locator("#value-body p.error").first).to_contain_text("baseline, target, value_per_unit, unit required")
    form = page.locator("#value-node-form")
    expect(form.locator("input[name=name_en]")).to_have_value("Requests served")
    form.locator("input[name=baseline]").fill("2")
    form.locator("input[name=target]").fill("10")
    form.locator("input[name=unit]").fill("requests")
    form.locator("input[name=value_per_unit]").fill("1000")
    form.get_by_role("button", name="Add node").click()
    row = page.locator("#value-tree tr", has_text="Requests served")
    expect(row.locator(".kpi-actual")).to_have_text("6")
    expect(row).to_contain_text("50%")  # (6 − 2) / (10 − 2)
    expect(page.locator("canvas.kpi-chart")).to_have_count(1)

    cost = page.locator("#value-cost-form")
    cost.locator("input[name=name]").fill("Pilot build")
    cost.locator("input[name=amount]").fill("2000")
    cost.locator("input[name=start_month]").fill(today.isoformat())
    cost.get_by_role("button", name="Add cost").click()
    expect(page.locator("#value-roi")).to_have_text("100.0%")  # (4 × 1,000 − 2,000) / 2,000
    expect(page.locator("#value-payback")).to_have_text("1.0")
    expect(page.locator("#roi-chart")).to_be_visible()

    # The actuals move as new evidence arrives, and the page reads in Korean.
    add_traffic(runtime, service="churn-svc", day=today, requests=2)
    add_feedback(runtime, service="churn-svc", day=today, right=1, wrong=1)
    page.select_option("select[name=lang]", "ko")
    expect(page.locator("h1")).to_contain_text("가치 트리")
    row = page.locator("#value-tree tr", has_text="처리 요청")
    expect(row.locator(".kpi-actual")).to_have_text("8")
    expect(page.locator("#value-tree")).to_contain_text("이탈 고객 감소")
