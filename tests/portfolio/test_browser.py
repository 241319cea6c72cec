"""A real Chromium sees the portfolio in Korean and in English, filters it by health and sorts it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


@pytest.mark.parametrize(("lang", "late_word", "red_label", "filter_label"),
                         [("ko", "지연: 예상 완료일", "적색", "필터"), ("en", "Late: the median", "Red", "Filter")])
def test_portfolio_filters_and_sorts(page: Page, client: TestClient, live_server_url: str,
                                     lang: str, late_word: str, red_label: str, filter_label: str) -> None:
    tag = uuid.uuid4().hex[:6]
    today = dt.date.today()
    late = client.post("/api/v1/projects", json={"name": f"A late {tag}", "client": "Bank"}).json()["id"]
    client.post(f"/api/v1/projects/{late}/tasks", json={
        "title": "Label", "start_date": (today - dt.timedelta(days=20)).isoformat(),
        "due_date": (today - dt.timedelta(days=10)).isoformat()})
    calm = client.post("/api/v1/projects", json={"name": f"B calm {tag}", "client": "Telco"}).json()["id"]
    page.context.add_cookies([{"name": "mlpilot_lang", "value": lang, "url": live_server_url}])
    page.goto(f"{live_server_url}/login?next=/portfolio")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    row = page.locator(f"tr[data-project='{late}']")
    expect(row).to_have_attribute("data-health", "red", timeout=20_000)
    expect(row.locator(".sig-schedule")).to_contain_text(late_word)
    expect(row).to_contain_text(red_label)
    expect(page.locator(f"tr[data-project='{calm}']")).to_have_attribute("data-health", "none")
    form = page.locator("#portfolio-filters")
    form.locator("select[name=health]").select_option("red")
    form.get_by_role("button", name=filter_label).click()
    expect(page.locator(f"tr[data-project='{calm}']")).to_have_count(0)
    expect(page.locator(f"tr[data-project='{late}']")).to_have_count(1)
    for health in page.locator("#portfolio tbody tr").evaluate_all("rows => rows.map(r => r.dataset.health)"):
        assert health == "red"
    # Sorting by name keeps the filter; a second click reverses it.
    page.locator("#portfolio thead a").first.click()
    expect(page).to_have_url(f"{live_server_url}/portfolio?health=red&sort=name&desc=0")
    page.locator("#portfolio thead a").first.click()
    expect(page).to_have_url(f"{live_server_url}/portfolio?health=red&sort=name&desc=1")
    expect(page.locator("#portfolio thead a").first).to_contain_text("▼")
