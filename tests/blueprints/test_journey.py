"""Issue 14's journey in a real Chromium, in Korean: a use case found by search, screened against an uploaded
dataset (readiness figures shown), a project built from its blueprint that trains, deploys and serves with no
further setup, the value tree's actuals moving as predictions and feedback arrive, and the in-house vs managed
comparison in the project's report (read in English)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from mlpilot.usecases.screening import QUESTION_KEYS
from tests.conftest import ADMIN_PASSWORD
from tests.datasets.factories import churn_frame, wait_job

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


def _infer_rows(client: TestClient, model_version_id: int, rows: int) -> list[dict]:
    signature = client.get(f"/api/v1/model-versions/{model_version_id}").json()["signature"]["inputs"]
    inputs = []
    for column in signature:
        if column["dtype"] == "string":
            inputs.append({"name": column["name"], "shape": [rows], "datatype": "BYTES",
                           "data": [column["categories"][i % len(column["categories"])] for i in range(rows)]})
        else:
            inputs.append({"name": column["name"], "shape": [rows], "datatype": "FP64",
                           "data": [float(i) for i in range(rows)]})
    return inputs


def _actual(page: Page) -> float:
    text = page.locator("#value-tree tr", has_text="점수화한 고객 수").locator(".kpi-actual").inner_text()
    return float(text.replace(",", "")) if text.strip() not in ("", "—") else 0.0


def test_use_case_to_blueprint_to_service_whose_value_moves(page: Page, client: TestClient, live_server_url: str,
                                                            tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    churn_frame().head(1200).write_csv(data)
    page.context.add_cookies([{"name": "mlpilot_lang", "value": "ko", "url": live_server_url}])
    page.goto(f"{live_server_url}/login?next=/usecases")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")

    # Discover: search, start a project from the use case, upload the company's own data, screen against it.
    page.fill("input[name=q]", "이탈")
    page.locator("form[role=search] button[type=submit]").click()
    page.get_by_test_id("usecase-card").first.get_by_role("link", name="이 활용 사례로 프로젝트 시작").click()
    page.fill("#new-project input[name=name]", "이탈 검토")
    page.get_by_role("button", name="프로젝트 만들기").click()
    expect(page.locator("h1")).to_contain_text("이탈 검토")
    page.locator("nav.stage-nav a[data-stage=data]").click()
    upload = page.locator("form[action$='/datasets/upload']")
    upload.locator("input[name=name]").fill("customers")
    upload.locator("input[type=file]").set_input_files(str(data))
    upload.get_by_role("button", name="업로드").click()
    page.locator("nav.stage-nav a[data-stage=discover]").click()
    screening = page.locator("#screening-body")
    screening.locator("select[name=dataset_version_id]").select_option(label="customers v1")
    screening.locator("input[name=target]").fill("target")
    for key in QUESTION_KEYS:
        screening.locator(f"input[name=answer_{key}][value=yes]").check()
    screening.get_by_role("button", name="검토 저장").click()
    readiness = page.get_by_test_id("readiness-table")
    expect(readiness.locator("tr[data-check=rows]")).to_contain_text("1,200", timeout=30_000)
    expect(page.get_by_test_id("screening-decision")).to_contain_text("추진")

    # Go: the use case's blueprint builds a new project that trains, deploys and serves.
    go = page.get_by_test_id("go-blueprint")
    go.locator("input[name=project_name]").fill("이탈 서비스")
    go.locator("button[type=submit]").click()
    status = page.locator("[data-testid=blueprint-job]")
    expect(status).to_contain_text("준비되었습니다", timeout=180_000)
    status.locator("a[href^='/projects/']").click()
    expect(page.locator("h1")).to_contain_text("이탈 서비스")
    project_id = int(page.url.rstrip("/").split("/projects/")[1].split("/")[0].split("#")[0])
    services = [s for s in client.get("/api/v1/services").json() if s["project_id"] == project_id]
    assert len(services) == 1, services
    service = services[0]["name"]
    model_id = client.get(f"/api/v1/projects/{project_id}/model-versions").json()[0]["id"]

    # The value tree shipped with the blueprint reads its actuals from the service's own evidence.
    page.click("#value-link")
    expect(page.locator("h1")).to_contain_text("가치 트리")
    before = _actual(page)
    answered = client.post(f"/v2/models/{service}/infer", json={"inputs": _infer_rows(client, model_id, 25)})
    assert answered.status_code == 200, answered.text
    deadline = time.monotonic() + 30
    while True:  # the data plane's telemetry reaches the database on its next flush
        page.reload()
        now = _actual(page)
        if now >= before + 25 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert now >= before + 25, (before, now)

    # The project's report carries the build-in-house vs managed comparison.
    made = client.post(f"/api/v1/projects/{project_id}/reports", json={"locale": "en"})
    assert made.status_code == 202, made.text
    assert wait_job(client, made.json()["job_id"], timeout=120)["state"] == "succeeded"
    report = client.get(f"/api/v1/projects/{project_id}/reports").json()[0]
    html = client.get(f"/api/v1/reports/{report['id']}/download", params={"format": "html"}).text
    assert "Build in house or use a managed service" in html and "Year 3" in html
