"""A real Chromium compares two runs side by side (charts drawn) and opens a run's model card."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD
from tests.datasets.factories import create_project, csv_bytes, synthetic_frame, upload_ok, wait_job

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


def test_compare_two_runs_and_open_the_model_card(client: TestClient, live_server_url: str, page: Page,  # noqa: F811
                                                  tmp_path: Path) -> None:
    pid = create_project(client, "Browser compare")
    frame = synthetic_frame("binary", rows=300, seed=5)
    frame = frame.with_columns(pl.Series("region", ["north", "south", "east"] * 100))
    version = upload_ok(client, pid, name="loans", filename="l.csv", data=csv_bytes(frame))["version"]
    run_ids = []
    for params in ({}, {"num_leaves": 3, "num_boost_round": 5}):
        started = client.post(f"/api/v1/projects/{pid}/runs",
                              json={"dataset_version_id": version["id"], "target": "y", "engine": "lightgbm",
                                    "time_budget_s": 3, "params": params, "sensitive_column": "region"}).json()
        assert wait_job(client, started["job_id"], timeout=120)["state"] == "succeeded"
        run_ids.append(started["run"]["id"])

    page.goto(f"{live_server_url}/login?next=/projects/{pid}/build")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server_url}/projects/{pid}/build")
    for run_id in run_ids:
        page.locator(f"#compare-form input[name=ids][value='{run_id}']").check()
    page.get_by_role("button", name="Compare selected runs").click()
    expect(page.locator("h1")).to_contain_text("Compare runs")
    table = page.locator("[data-testid=compare-table]")
    for run_id in run_ids:
        expect(table).to_contain_text(f"#{run_id} lightgbm")
    expect(table).to_contain_text("roc_auc")
    for chart in ("metrics", "calibration", "importance"):
        expect(page.locator(f"[data-testid=chart-{chart}]")).to_have_attribute("data-drawn", "1", timeout=15000)
    page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)

    page.get_by_role("link", name=f"#{run_ids[0]} lightgbm").click()
    expect(page.locator("h1")).to_contain_text(f"#{run_ids[0]}")
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    with page.context.expect_page() as opened:
        page.locator("[data-testid=model-card-en]").click()
    card = opened.value
    card.wait_for_load_state()
    expect(card.locator("h1")).to_contain_text("Model card")
    expect(card.locator("body")).to_contain_text("Demographic-parity difference")
    expect(card.locator("body")).to_contain_text("region")
