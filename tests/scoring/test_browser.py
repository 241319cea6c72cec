"""A real Chromium starts a batch scoring run from the form, subscribes a webhook and adds a drift alert rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from mlpilot.core.runtime import Runtime
from tests.conftest import ADMIN_PASSWORD
from tests.dataplane.factories import churn_frame, make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import deploy, make_model_version

pytestmark = pytest.mark.browser


def test_scoring_form_notifications_and_alert_rules_in_a_browser(page: Page, client: TestClient,  # noqa: F811
                                                                 runtime: Runtime, live_server_url: str,
                                                                 tmp_path: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "m"))
    deploy(client, project_id=project["id"], name="churn", model_version_id=version)
    churn_frame(250, seed=4).drop("churn").write_csv(tmp_path / "customers.csv")

    page.goto(f"{live_server_url}/login?next=/scoring")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Batch scoring")
    expect(page.locator("#scoring-runs")).to_contain_text("No scoring runs yet")

    # A mistake comes back in plain words with the form kept.
    page.fill("input[name=output_path]", str(tmp_path / "scores.parquet"))
    page.get_by_role("button", name="Start scoring").click()
    expect(page.locator("p.error")).to_contain_text("The source file needs a path")
    expect(page.locator("input[name=output_path]")).to_have_value(str(tmp_path / "scores.parquet"))

    page.fill("input[name=source_path]", str(tmp_path / "customers.csv"))
    page.fill("input[name=chunk_rows]", "100")
    page.get_by_role("button", name="Start scoring").click()
    runs = page.locator("#scoring-runs")
    expect(runs.locator("tbody tr").first).to_contain_text("succeeded", timeout=30_000)
    expect(runs.locator("tbody tr").first).to_contain_text("250")
    expect(runs.locator("tbody tr").first).to_contain_text("model:churn v1")
    assert (tmp_path / "scores.parquet").exists()

    page.click("nav >> text=Notifications")
    expect(page.locator("h1")).to_contain_text("Notifications")
    page.fill("#subscription-form input[name=name]", "ops hook")
    page.fill("#subscription-form input[name=target]", "https://hooks.example.com/mlpilot")
    page.fill("#subscription-form input[name=secret]", "signing-key")
    page.check("#subscription-form input[value='alert.fired']")
    page.get_by_role("button", name="Subscribe").click()
    row = page.locator("#subscriptions tbody tr").first
    expect(row).to_contain_text("ops hook")
    expect(row).to_contain_text("alert.fired")
    expect(row).to_contain_text("yes")

    page.click("nav >> text=Monitoring")
    form = page.locator("#alert-rule-form")
    form.locator("input[name=name]").fill("inputs drifted")
    form.locator("select[name=metric]").select_option("drift_share")
    form.locator("input[name=threshold]").fill("0.3")
    form.get_by_role("button", name="Add rule").click()
    expect(page.locator("#alerts table")).to_contain_text("drift_share > 0.3")
    form = page.locator("#alert-rule-form")
    form.locator("input[name=name]").fill("bad")
    form.locator("input[name=threshold]").fill("lots")
    form.get_by_role("button", name="Add rule").click()
    expect(page.locator("#alerts p.error")).to_contain_text("must be a number")
