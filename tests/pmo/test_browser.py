"""A real Chromium, in Korean, creates a plan from the public-project template and sees the critical path."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD
from tests.projects.factories import api_project

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


def test_plan_from_the_korean_public_template(page: Page, client: TestClient,  # noqa: F811
                                              live_server_url: str) -> None:
    project = api_project(client, name="공공 AI 시범사업")
    page.context.add_cookies([{"name": "mlpilot_lang", "value": "ko", "url": live_server_url}])
    page.goto(f"{live_server_url}/login?next=/projects/{project['id']}/manage")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    form = page.locator("#template-form")
    expect(form).to_be_visible(timeout=20_000)
    form.locator("select[name=template_key]").select_option("kr-public-ai")
    form.locator("input[name=start_date]").fill((dt.date.today() - dt.timedelta(days=5)).isoformat())
    form.get_by_role("button", name="계획 만들기").click()

    path = page.locator("#critical-path")
    expect(path).to_contain_text("착수: 수행계획서 및 인력 투입", timeout=20_000)
    expect(path).to_contain_text("모델 개발: 학습 및 최적화")
    expect(path).to_contain_text("이행/완료: 이행·교육·인계")
    expect(page.locator("#plan-body h3").filter(has_text="주공정 경로")).to_be_visible()
    expect(page.locator("tr.critical").first).to_contain_text("주공정")
    # The design task runs beside data construction and is not on the path.
    expect(page.locator("tr[data-task]").filter(has_text="설계: 데이터·모델·시스템 설계")).not_to_have_class("critical")
    expect(page.locator("#plan-body canvas[data-drawn='1']")).to_have_count(2)
    expect(page.locator("#plan-body table").first).to_contain_text("착수보고")

    # Saving a baseline adds its grey bars; the forecast chart stays.
    page.locator("#baseline-form").get_by_role("button", name="기준선 저장").click()
    expect(page.locator("#plan-body")).to_contain_text("기준선:")
    expect(page.locator("#forecast-chart[data-drawn='1']")).to_have_count(1)
