"""A real Chromium labels with the keyboard, goes back and changes an answer, skips, and a reviewer adjudicates;
the agreement figures on the page are those of the libraries (through the API)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import PageOpener
from tests.labeling.factories import create_labeling, next_item, setup, submit

pytestmark = pytest.mark.browser


def _page(open_page: PageOpener, url: str, name: str, locale: str = "en-US") -> Page:
    page = open_page(locale=locale)
    page.goto(f"{url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", "password-123")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def test_keyboard_labeling_review_and_agreement(client: TestClient, live_server_url: str,
                                                open_page: PageOpener) -> None:
    s = setup(client, rows=4, annotators=("ann", "bo"), reviewers=("rev",))
    labeling = create_labeling(client, s, roles={"ann": "annotator", "bo": "annotator", "rev": "reviewer"},
                               overlap_share=1.0, overlap_count=2)
    lid = labeling["id"]
    page = _page(open_page, live_server_url, "ann")
    page.goto(f"{live_server_url}/labeling/{lid}/work")
    text = page.locator("#item-text")
    expect(text).to_contain_text("#0")
    page.keyboard.press("1")  # positive
    expect(text).to_contain_text("#1")
    page.keyboard.press("2")  # negative
    expect(text).to_contain_text("#2")
    page.keyboard.press("ArrowLeft")  # back to row 1, answered "negative"
    expect(text).to_contain_text("#1")
    expect(page.locator(".choice[data-label=negative]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("3")  # change it to neutral, then on to the next new item
    expect(text).to_contain_text("#2")
    page.keyboard.press("s")  # skip row 2
    expect(text).to_contain_text("#3")
    page.keyboard.press("1")
    expect(text).to_contain_text("Nothing left to label")
    mine = {m["row_index"]: (m["status"], m["label"]) for m in
            client.get(f"/api/v1/labeling/{lid}/mine", headers=s.headers["ann"]).json()}
    assert mine == {0: ("submitted", {"label": "positive"}), 1: ("submitted", {"label": "neutral"}),
                    2: ("skipped", None), 3: ("submitted", {"label": "positive"})}

    while (item := next_item(client, lid, s.headers["bo"])) is not None:
        answer = "negative" if item["row_index"] == 3 else "positive"
        submit(client, item["assignment_id"], s.headers["bo"], {"label": answer})

    reviewer = _page(open_page, live_server_url, "rev", locale="ko-KR")
    reviewer.goto(f"{live_server_url}/labeling/{lid}/review-page")
    expect(reviewer.locator("h1")).to_contain_text("검수")
    rows = reviewer.locator("#review-queue tbody tr")
    expect(rows).to_have_count(7)  # 3 of ann (one skipped) and 4 of bo
    rows.first.get_by_role("button", name="승인").click()
    expect(reviewer.locator("#pass-rate")).to_contain_text("100.0 %")
    first = reviewer.locator("#review-queue tbody tr").first
    first.locator("input[name=reason]").fill("부정적인 리뷰입니다")
    first.get_by_role("button", name="반려").click()
    expect(reviewer.locator("#pass-rate")).to_contain_text("50.0 %")
    # The page shows the figures the API computes (tested against the libraries in test_review.py), without the
    # rejected label.
    quality = client.get(f"/api/v1/labeling/{lid}/agreement").json()
    assert quality["n_labels"] == 6 and quality["fleiss_kappa"] is not None
    reviewer.goto(f"{live_server_url}/labeling/{lid}")
    expect(reviewer.locator("#fleiss")).to_have_text(f"{quality['fleiss_kappa']:.4f}")
    expect(reviewer.locator("#alpha")).to_have_text(f"{quality['krippendorff_alpha']:.4f}")
    expect(reviewer.locator("#disagreements")).to_contain_text("ann")
