"""A real Chromium finds a blueprint in the Korean marketplace, instantiates it and reaches the serving project."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


def test_instantiate_from_the_korean_marketplace(page: Page, client: TestClient,
                                                 live_server_url: str) -> None:
    page.goto(f"{live_server_url}/login?next=/blueprints")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Blueprint marketplace")
    page.select_option("select[name=lang]", "ko")
    expect(page.locator("h1")).to_contain_text("블루프린트 마켓플레이스")
    page.fill("[data-testid=blueprint-search]", "배송 소요")
    page.locator("form[role=search] button[type=submit]").click()
    cards = page.locator("[data-testid=blueprint-card]")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("배송 소요 시간 예측")
    cards.first.locator("[data-testid=instantiate-name]").fill("브라우저 배송")
    cards.first.locator("form button[type=submit]").click()
    status = page.locator("[data-testid=blueprint-job]")
    expect(status).to_contain_text("준비되었습니다", timeout=120_000)
    status.locator("a[href^='/projects/']").click()
    expect(page.locator("h1")).to_contain_text("브라우저 배송")
