"""Quality warnings keep their catalog message and values, so the profile and the quality report speak Korean."""

from __future__ import annotations

import polars as pl

from mlpilot.core.i18n import get_translations
from mlpilot.datasets.profiling import profile_frame
from mlpilot.datasets.quality_report import render_html


def test_quality_warnings_and_report_in_korean() -> None:
    frame = pl.DataFrame({"id": list(range(60)), "도시": [("서울", "부산")[i % 2] for i in range(60)],
                          "when": ["2024-01-02"] * 30 + ["2024-02-03"] * 30, "y": [i % 3 for i in range(60)]})
    profile = profile_frame(frame, target="y", task="classification")
    warnings = {w["code"]: w for w in profile["warnings"]}
    identifier = warnings["id_like"]
    assert identifier["message"] == identifier["text"] % identifier["values"]  # English stays the stored message
    assert "looks like an identifier" in identifier["message"]
    korean = get_translations("ko").gettext(identifier["text"]) % identifier["values"]
    assert korean.startswith("열 'id'은(는) 식별자로 보입니다")
    html = render_html(profile, title="고객 v1", locale="ko")
    assert "식별자로 보입니다" in html and "날짜가 텍스트로 저장되어" in html and "(분류)" in html
    assert "looks like an identifier" not in html and "holds dates stored as text" not in html
    english = render_html(profile, title="customers v1", locale="en")
    assert "looks like an identifier" in english and "y (classification)" in english
