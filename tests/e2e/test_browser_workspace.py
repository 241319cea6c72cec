"""In Chromium: an axe-core scan of every page type (no critical or serious violation), the layout at 800 px
(no horizontal overflow), and "Train" landing on the build stage with the run's progress on screen."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.axe import blocking_violations
from tests.e2e.conftest import DemoServer
from tests.e2e.test_browser import _log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def scan_page(chromium: Browser) -> Iterator[Page]:
    # axe is injected as a script tag: the pages' CSP (script-src 'self') would refuse it.
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _settle(page: Page, url: str) -> None:
    page.goto(url)
    # Sections arrive late (HTMX): wait until no placeholder is left, then until charts are drawn.
    page.wait_for_function("() => ![...document.querySelectorAll('[hx-trigger=load]')]"
                           ".some(el => el.querySelector(':scope > p.muted') && el.children.length === 1)",
                           timeout=30_000)
    page.wait_for_load_state("networkidle")


def _page_types(server: DemoServer) -> list[str]:
    api = server.api()
    project = next(p for p in api.get("/api/v1/projects").json() if p["name"] == "Customer churn")
    pid = project["id"]
    dataset = api.get(f"/api/v1/projects/{pid}/datasets").json()[0]
    version_id = api.get(f"/api/v1/datasets/{dataset['id']}").json()["versions"][0]["id"]
    run_id = api.get(f"/api/v1/projects/{pid}/runs").json()[0]["id"]
    model_id = api.get(f"/api/v1/projects/{pid}/model-versions").json()[0]["id"]
    service = api.get("/api/v1/services").json()[0]["name"]
    stages = ["", "/discover", "/data", "/build", "/deploy", "/operate", "/manage"]
    return ["/projects", *[f"/projects/{pid}{s}" for s in stages], f"/projects/{pid}/risks",
            f"/projects/{pid}/value", f"/projects/{pid}/connections", f"/dataset-versions/{version_id}",
            f"/runs/{run_id}", f"/model-versions/{model_id}", "/services", f"/services/{service}", "/monitoring",
            "/scoring", "/usecases", "/account", "/admin/users", "/notifications"]


def test_no_critical_or_serious_accessibility_violation_on_any_page_type(scan_page: Page,
                                                                         demo_server: DemoServer) -> None:
    page = scan_page
    found: dict[str, list[str]] = {}
    page.goto(f"{demo_server.url}/login")
    found["/login"] = blocking_violations(page)
    _log_in(page, demo_server)
    for path in _page_types(demo_server):
        _settle(page, demo_server.url + path)
        found[path] = blocking_violations(page)
    page.context.add_cookies([{"name": "mlpilot_lang", "value": "ko", "url": demo_server.url}])
    for path in ("/projects", _page_types(demo_server)[1]):
        _settle(page, demo_server.url + path)
        found[f"{path} (ko)"] = blocking_violations(page)
    problems = {path: lines for path, lines in found.items() if lines}
    assert problems == {}, "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in problems.items())


def test_pages_fit_800_px_without_horizontal_overflow(scan_page: Page, demo_server: DemoServer) -> None:
    page = scan_page
    page.set_viewport_size({"width": 800, "height": 900})
    _log_in(page, demo_server)
    page.context.add_cookies([{"name": "mlpilot_lang", "value": "ko", "url": demo_server.url}])
    overflowing = {}
    for path in _page_types(demo_server):
        _settle(page, demo_server.url + path)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if widths[0] > widths[1]:
            overflowing[path] = widths
    assert overflowing == {}
    header = page.locator("header.topbar").bounding_box()
    assert header is not None and header["width"] <= 800


def test_train_lands_on_the_build_stage_with_progress_in_view(scan_page: Page, demo_server: DemoServer) -> None:
    page = scan_page
    api = demo_server.api()
    project = api.post("/api/v1/projects", json={"name": "Workspace train check"}).json()
    pid = project["id"]
    rows = "x,y,target\n" + "".join(f"{i},{(i * 7) % 5},{i % 2}\n" for i in range(120))
    uploaded = api.post(f"/api/v1/projects/{pid}/datasets", data={"name": "toy"},
                        files={"file": ("toy.csv", rows.encode(), "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    _log_in(page, demo_server)
    _settle(page, f"{demo_server.url}/projects/{pid}")
    expect(page.locator("[data-next-step=train]")).to_be_visible()
    page.locator("#next-step a.button").click()
    expect(page.locator("nav.stage-nav a[aria-current=page]")).to_have_attribute("data-stage", "build")
    form = page.locator("form[action$='/runs/start']")
    expect(form).to_be_visible(timeout=30_000)
    form.locator("input[name=target]").fill("target")
    form.locator("select[name=task]").select_option("binary")
    form.locator("input[name=time_budget_s]").fill("5")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{demo_server.url}/projects/{pid}/build#section-runs")
    runs = page.locator("#section-runs")
    expect(runs).to_contain_text("toy", timeout=30_000)
    expect(runs).to_be_in_viewport()
    httpx.Client(base_url=demo_server.url)  # the server stays up for the other tests
