"""A real Chromium, in Korean: searches a use case, starts a project from it, uploads a dataset through the UI and
screens the candidate against it — readiness figures and the priority matrix shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from mlpilot.usecases.screening import QUESTION_KEYS
from tests.conftest import ADMIN_PASSWORD
from tests.datasets.factories import churn_frame

pytestmark = pytest.mark.browser


def test_search_in_korean_and_screen_against_an_uploaded_dataset(page: Page, client: TestClient,  # noqa: F811
                                                                  live_server_url: str, tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    churn_frame().head(1500).write_csv(data)
    page.context.add_cookies([{"name": "mlpilot_lang", "value": "ko", "url": live_server_url}])
    page.goto(f"{live_server_url}/login?next=/usecases")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("활용 사례 탐색")

    page.fill("input[name=q]", "이탈")
    page.locator("form[role=search] button[type=submit]").click()
    cards = page.get_by_test_id("usecase-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("고객 이탈 예측")
    expect(cards.first).to_contain_text("이탈률")
    expect(page.get_by_test_id("usecase-count")).to_contain_text("중 1개")

    cards.first.get_by_role("link", name="이 활용 사례로 프로젝트 시작").click()
    expect(page.locator("select[name=usecase_key]")).to_have_value("churn-prediction")
    page.fill("#new-project input[name=name]", "이탈 파일럿")
    page.get_by_role("button", name="프로젝트 만들기").click()
    expect(page.locator("h1")).to_contain_text("이탈 파일럿")
    expect(page.locator("[data-next-step=upload]")).to_be_visible()
    page.locator("nav.stage-nav a[data-stage=data]").click()

    upload = page.locator("form[action$='/datasets/upload']")
    upload.locator("input[name=name]").fill("customers")
    upload.locator("input[type=file]").set_input_files(str(data))
    upload.get_by_role("button", name="업로드").click()
    page.locator("nav.stage-nav a[data-stage=discover]").click()
    screening = page.locator("#screening-body")
    expect(screening.locator("select[name=dataset_version_id] option")).to_have_count(2)
    screening.locator("select[name=dataset_version_id]").select_option(label="customers v1")
    screening.locator("input[name=target]").fill("target")
    for key in QUESTION_KEYS:
        screening.locator(f"input[name=answer_{key}][value=yes]").check()
    screening.get_by_role("button", name="검토 저장").click()

    readiness = page.get_by_test_id("readiness-table")
    expect(readiness).to_be_visible(timeout=30_000)
    expect(readiness.locator("tr[data-check=rows]")).to_contain_text("1,500")
    expect(readiness.locator("tr[data-check=rows_per_class]")).to_contain_text("클래스별 행 수")
    expect(readiness.locator("tr[data-check=label]")).to_contain_text("100.0 %")
    expect(readiness.locator("tr[data-check=missing]")).to_contain_text("0.0 %")
    expect(page.get_by_test_id("readiness-verdict")).to_contain_text("준비됨")
    expect(page.get_by_test_id("screening-decision")).to_contain_text("추진")
    expect(page.get_by_test_id("priority-matrix")).to_be_visible()
    # Chart.js drew the matrix: the canvas has a chart with one point per screened candidate.
    page.wait_for_function("() => window.Chart && Chart.getChart("
                           "document.querySelector('[data-testid=priority-matrix]'))?.data.datasets.length === 1")
