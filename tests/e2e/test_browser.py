"""A real Chromium, driven by Playwright, logs in and walks the demo: project, service chart, Korean UI."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DemoServer

pytestmark = pytest.mark.browser


def _log_in(page: Page, server: DemoServer) -> None:
    page.goto(f"{server.url}/projects")
    expect(page).to_have_url(f"{server.url}/login?next=/projects")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/projects")


def test_login_project_and_live_service_chart(page: Page, demo_server: DemoServer, tmp_path: Path) -> None:
    _log_in(page, demo_server)
    page.get_by_role("link", name="Customer churn").first.click()
    expect(page.locator("h1")).to_contain_text("Customer churn")
    expect(page.locator(".timeline li.current")).to_contain_text("Operate")
    page.locator("nav.stage-nav a[data-stage=build]").click()
    expect(page.locator("nav.stage-nav a[aria-current=page]")).to_have_attribute("data-stage", "build")
    expect(page.locator("#section-runs")).to_contain_text("roc_auc")
    page.screenshot(path=str(tmp_path / "project.png"), full_page=True)

    page.goto(f"{demo_server.url}/services/churn")
    expect(page.locator("h1")).to_contain_text("churn")
    chart = page.locator("canvas[data-chart]").first
    expect(chart).to_have_attribute("data-drawn", "1", timeout=15000)
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    page.screenshot(path=str(tmp_path / "service.png"), full_page=True)


def test_ui_switches_to_korean(page: Page, demo_server: DemoServer) -> None:
    _log_in(page, demo_server)
    page.select_option("select[name=lang]", "ko")
    expect(page.locator("header nav")).to_contain_text("프로젝트")
    page.get_by_role("link", name="Customer churn").first.click()
    expect(page.locator(".timeline li.current")).to_contain_text("운영")
    page.goto(f"{demo_server.url}/services/churn")
    expect(page.locator("canvas[data-chart]").first).to_have_attribute("data-drawn", "1", timeout=15000)
