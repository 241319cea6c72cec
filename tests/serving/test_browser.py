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
    page.get_by_role("button", name="Roll back one step").click()
    expect(page.locator("section.card").first).to_contain_text("churn v1")
    history = page.locator("section.card", has_text="Change history")
    for action in ("rollback", "promote", "canary", "attach", "deploy"):
        expect(history).to_contain_text(action)
    page.screenshot(path=str(tmp_path / "service.png"), full_page=True)

    page.select_option("select[name=lang]", "ko")
    expect(page.locator("#backends h2")).to_contain_text("백엔드와 트래픽")
    expect(page.locator("section.card", has_text="변경 이력")).to_contain_text("롤백")
