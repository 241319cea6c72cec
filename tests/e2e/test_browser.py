"""A real Chromium, driven by Playwright, logs in and walks the demo: project, service chart, Korean UI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import DemoServer

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is required: apt-get install -y chromium (.ci/run does it)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


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
