"""In Chromium, the demo run's page draws its feature importance (every label), ROC and precision–recall curves and
a coloured confusion matrix, and the monitoring screen draws the drift severity chart, in Korean too."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DemoServer
from tests.e2e.test_browser import _log_in

pytestmark = pytest.mark.browser


def test_run_page_charts_render(page: Page, demo_server: DemoServer,  # noqa: F811 - the fixture
                                tmp_path: Path) -> None:
    api = demo_server.api()
    project = next(p for p in api.get("/api/v1/projects").json() if p["name"] == "Customer churn")
    run = api.get(f"/api/v1/projects/{project['id']}/runs").json()[0]
    _log_in(page, demo_server)
    page.goto(f"{demo_server.url}/runs/{run['id']}")
    for name in ("importance", "roc", "pr", "calibration"):
        expect(page.locator(f"[data-testid=chart-{name}]")).to_have_attribute("data-drawn", "1", timeout=15000)
    # Every feature of the importance chart has its label: the box is as tall as the labels need.
    importance = page.locator("[data-testid=chart-importance]")
    labels = page.evaluate("() => JSON.parse(document.querySelector('[data-testid=chart-importance]')"
                           ".getAttribute('data-chart')).data.labels.length")
    box = importance.bounding_box()
    assert labels >= 10 and box is not None and box["height"] >= 20 * labels
    ticks = page.evaluate("() => Chart.getChart(document.querySelector('[data-testid=chart-importance]'))"
                          ".scales.y.ticks.length")
    assert ticks == labels
    cells = page.locator("[data-testid=confusion-matrix] td")
    expect(cells).to_have_count(4)
    colours = {cells.nth(i).evaluate("c => getComputedStyle(c).backgroundColor") for i in range(4)}
    assert len(colours) >= 2 and "rgba(0, 0, 0, 0)" not in colours

    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)

    page.select_option("select[name=lang]", "ko")
    expect(page.locator("h3", has_text="ROC 곡선")).to_be_visible()
    expect(page.locator("[data-testid=chart-pr]")).to_have_attribute("data-drawn", "1", timeout=15000)

    # The demo's traffic is sampled for live drift: the verdict, its rule and the severity chart are on screen.
    page.goto(f"{demo_server.url}/monitoring")
    expect(page.locator("[data-testid=drift-verdict]")).to_be_visible()
    expect(page.locator("[data-testid=drift-rule]")).to_contain_text("PSI")
    expect(page.locator("[data-testid=chart-drift-features]")).to_have_attribute("data-drawn", "1", timeout=15000)
    page.screenshot(path=str(tmp_path / "monitoring.png"), full_page=True)
