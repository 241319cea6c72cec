"""A real Chromium walks a service's backends: canary, promote and roll back from the page, audit, Korean."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from mlpilot.core.runtime import Runtime
from tests.conftest import ADMIN_PASSWORD
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import deploy, make_model_version

pytestmark = pytest.mark.browser


def test_canary_promote_and_rollback_from_the_service_page(page: Page, client: TestClient, runtime: Runtime,
                                                           live_server_url: str, tmp_path: Path) -> None:
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v1", rounds=5))
    v2 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v2"))
    deploy(client, project_id=project["id"], name="churn", model_version_id=v1)

    page.goto(f"{live_server_url}/login?next=/services/churn")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("churn")
    backends = page.locator("#backends")
    expect(backends).to_contain_text("model:churn v1")

    page.select_option("select[name=model_version_id] >> nth=-1", str(v2))
    page.get_by_role("button", name="Attach model version").click()
    expect(backends).to_contain_text("model:churn v2")
    page.fill("input[name=weight_pct]", "25")
    page.get_by_role("button", name="Start canary").click()
    expect(backends.locator("tbody tr").nth(1)).to_contain_text("25 %")
    page.get_by_role("button", name="Promote").click()
    expect(page.locator("section.card").first).to_contain_text("churn v2")
    assert client.get("/api/v1/services/churn").json()["primary"] == "churn v2"
    # Rolling back is confirmed with a reason: the disclosure opens a form whose reason is required.
    page.click("#rollback summary")
    page.fill("#rollback input[name=reason]", "v2 answers late")
    page.get_by_role("button", name="Confirm: roll back one step").click()
    expect(page.locator("section.card").first).to_contain_text("churn v1")
    history = page.locator("#history")
    for action in ("rollback", "promote", "canary", "attach", "deploy"):
        expect(history).to_contain_text(action)
    page.screenshot(path=str(tmp_path / "service.png"), full_page=True)

    page.select_option("select[name=lang]", "ko")
    expect(page.locator("#backends h2")).to_contain_text("백엔드와 트래픽")
    expect(page.locator("#history")).to_contain_text("롤백")


def _login(page: Page, live_server_url: str, next_path: str) -> None:
    page.goto(f"{live_server_url}/login?next={next_path}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")


def test_stop_with_a_reason_then_start_again_and_upload_outcomes(page: Page, client: TestClient, runtime: Runtime,
                                                                 live_server_url: str, tmp_path: Path) -> None:
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v1", rounds=5))
    deploy(client, project_id=project["id"], name="churn-ops", model_version_id=v1)
    record = {"tenure": 3, "charges": 70.0, "plan": "basic", "paperless": True}
    labels = [client.post("/api/v1/services/churn-ops/predict", json={"records": [record], "request_id": f"r{i}"}
                          ).json()["predictions"][0]["label"] for i in range(2)]

    _login(page, live_server_url, "/services/churn-ops")
    expect(page.locator("h1")).to_contain_text("churn-ops")
    # One click no longer stops production: the disclosure asks for a reason, required by the browser too.
    page.click("#stop-service summary")
    confirm = page.get_by_role("button", name="Confirm: stop service")
    expect(confirm).to_be_visible()
    confirm.click()
    assert client.get("/api/v1/services/churn-ops").json()["state"] == "deployed"
    page.fill("#stop-service input[name=reason]", "drift on tenure, investigating")
    confirm.click()
    expect(page.locator(".badge.failed").first).to_contain_text("stopped")
    history = page.locator("#history")
    expect(history).to_contain_text("drift on tenure, investigating")
    assert client.get("/api/v1/services/churn-ops").json()["state"] == "stopped"

    page.fill("#start-service input[name=reason]", "fixed upstream")
    page.get_by_role("button", name="Start service").click()
    expect(page.locator("section.card").first).to_contain_text("deployed")
    expect(history).to_contain_text("fixed upstream")
    assert client.get("/api/v1/services/churn-ops").json()["state"] == "deployed"

    # Outcomes for live quality: a bad file names line and field, a good one is joined (Post/Redirect/Get).
    page.get_by_role("link", name="Send outcomes").click()
    expect(page.locator("h1")).to_contain_text("Outcomes for live quality")
    bad = tmp_path / "bad.csv"
    bad.write_text("request_id,actual\nr0,\n")
    page.set_input_files("input[name=file]", str(bad))
    page.get_by_role("button", name="Upload outcomes").click()
    expect(page.locator("p.error")).to_contain_text("bad.csv line 2, field actual: the value is empty.")
    good = tmp_path / "truth.csv"
    good.write_text(f"request_id,actual\nr0,{labels[0]}\nr1,{labels[1]}\nunknown-id,yes\n")
    page.set_input_files("input[name=file]", str(good))
    page.get_by_role("button", name="Upload outcomes").click()
    expect(page.locator("p.notice")).to_contain_text("2 outcomes joined to predictions; 1 request ids")
    expect(page.locator("main")).to_contain_text("100.0 %")
    assert "matched=2" in page.url
    page.reload()  # a refresh re-reads the page; it sends nothing again
    quality = client.get("/api/v1/monitoring/services/churn-ops/quality").json()
    assert quality["totals"]["count"] == 2
    page.screenshot(path=str(tmp_path / "outcomes.png"), full_page=True)
