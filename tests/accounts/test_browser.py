"""A real Chromium: create an API token on the account page, see it once, revoke it after confirming."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD, PageOpener

pytestmark = pytest.mark.browser


@pytest.fixture
def page(open_page: PageOpener) -> Page:
    """The account pages in Korean at 800 px, the narrowest width the header must fit."""
    return open_page(locale="ko-KR", width=800)


def test_token_made_on_the_account_page_calls_the_api_until_revoked(page: Page, client: TestClient,
                                                                     live_server_url: str) -> None:
    page.goto(f"{live_server_url}/login?next=/account")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("내 계정")

    page.get_by_label("이름").last.fill("browser-token")
    page.get_by_role("button", name="토큰 만들기").click()
    secret = page.locator("#new-token code.secret").inner_text()
    assert httpx.get(f"{live_server_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)  # shown once; the refresh did not create another
    row = page.locator("#token-list tr", has_text="browser-token")
    expect(row).to_have_count(1)

    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="폐기").click()
    expect(row).to_contain_text("활성")  # dismissing the confirmation keeps the token
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="폐기").click()
    expect(page.locator("#token-list tr", has_text="browser-token")).to_contain_text("폐기됨")
    assert httpx.get(f"{live_server_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
