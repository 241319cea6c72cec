"""In Chromium, a Korean CSV saved by Excel as CP949 with Korean column names uploads through the form; the dataset
page names the detected encoding and delimiter, and a bad file is refused in Korean in the Korean UI."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.datasets.connectors.factories import korean_csv
from tests.e2e.conftest import DemoServer
from tests.e2e.test_browser import _log_in

pytestmark = pytest.mark.browser


def _upload(page: Page, name: str, file: Path) -> None:  # noqa: F811 - the fixture's name
    form = page.locator("#section-datasets form[action$='/datasets/upload']")
    form.locator("input[name=name]").fill(name)
    form.locator("input[type=file]").set_input_files(str(file))
    form.locator("button[type=submit]").click()


def test_cp949_korean_csv_uploads_through_the_ui(page: Page, demo_server: DemoServer,  # noqa: F811 - the fixture
                                                 tmp_path: Path) -> None:
    export = tmp_path / "고객명단.csv"
    export.write_bytes(korean_csv("cp949"))
    _log_in(page, demo_server)
    page.get_by_role("link", name="Customer churn").first.click()
    page.locator("nav.stage-nav a[data-stage=data]").click()
    expect(page.locator("#section-datasets form[action$='/datasets/upload']")).to_be_visible(timeout=15000)
    _upload(page, "고객 명단", export)
    link = page.locator("#section-datasets a", has_text="고객 명단")
    expect(link).to_be_visible(timeout=15000)
    link.click()
    expect(page.locator("h1")).to_contain_text("고객 명단")
    expect(page.locator("#source-encoding")).to_contain_text("CP949/EUC-KR")
    expect(page.locator("#source-delimiter")).to_contain_text("comma")
    expect(page.locator("table thead").last).to_contain_text("이름")
    expect(page.locator("table tbody").last).to_contain_text("홍길동")

    page.select_option("select[name=lang]", "ko")
    expect(page.locator("#source-delimiter")).to_contain_text("쉼표")
    page.goto(f"{demo_server.url}/projects")
    page.get_by_role("link", name="Customer churn").first.click()
    page.locator("nav.stage-nav a[data-stage=data]").click()
    broken = tmp_path / "깨짐.csv"
    broken.write_bytes("이름,나이\n".encode("cp949") + b"\xff\xff,1\n")
    expect(page.locator("#section-datasets form[action$='/datasets/upload']")).to_be_visible(timeout=15000)
    _upload(page, "깨짐", broken)
    expect(page.locator("p.error[role=alert]")).to_contain_text("시도한 인코딩", timeout=15000)
