"""Rendering a status report from hand-built evidence: HTML in both languages, and a readable PDF."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from mlpilot.core.documents import format_number
from mlpilot.core.errors import InvalidInput
from mlpilot.core.pdf import missing_glyphs
from mlpilot.datasets.service import ColumnSummary, DatasetSummary
from mlpilot.monitoring.service import ServiceTraffic
from mlpilot.pmo.schemas import ScheduleSummary
from mlpilot.pmo.slippage import ScheduleItem, summarize_schedule
from mlpilot.projects.service import StageState
from mlpilot.reports.evidence import Evidence, ProjectFacts, ScreeningFacts, assemble_evidence
from mlpilot.reports.render import render_html, render_pdf
from mlpilot.training.service import LeaderboardEntry, TrainingSummary

NOW = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)


def evidence() -> Evidence:
    schedule = ScheduleSummary.model_validate(summarize_schedule([
        ScheduleItem("milestone", 1, "Data ready", dt.date(2026, 2, 1), dt.date(2026, 3, 1), None),
        ScheduleItem("task", 2, "Extract tables", dt.date(2026, 2, 1), dt.date(2026, 2, 10), dt.date(2026, 2, 9)),
    ], NOW.date()))
    best = LeaderboardEntry(rank=1, run_id=7, engine="lightgbm", task="binary", target="churn", dataset="customers v2",
                            metric_name="roc_auc", metric_value=0.8734, higher_is_better=True,
                            metrics={"roc_auc": 0.8734}, duration_s=12.5)
    column = ColumnSummary(name="TotalCharges", dtype="f64", missing_pct=0.16, distinct=6531, min=18.8, max=8684.8,
                           mean=2283.3)
    return assemble_evidence(
        project=ProjectFacts(id=1, name="Churn Pilot", client="ACME Telecom", description="Keep customers.",
                             stage="build", usecase_key="churn-prediction", usecase_name="Churn prediction"),
        timeline=[StageState(stage=s, entered_at=NOW if s == "build" else None,
                             state="done" if i < 3 else "current" if i == 3 else "upcoming")
                  for i, s in enumerate(["discover", "design", "data", "build", "deploy", "operate"])],
        schedule=schedule,
        screening=ScreeningFacts(score=10, max_score=12, decision="go", created_at=NOW,
                                 answers={"important": {"answer": "yes", "note": "board priority"},
                                          "needs_ml": {"answer": "partly", "note": ""}}),
        datasets=[DatasetSummary(name="customers", version=2, rows=7043, columns=21, created_at=NOW,
                                 profile_columns=(column,))],
        training=TrainingSummary(leaderboard=[best], best=best),
        services=[ServiceTraffic(name="churn-api", model_version="churn-model v3", state="running", requests=1520,
                                 errors=3, latency_p50_ms=4.2, latency_p95_ms=9.8, latency_p99_ms=15.1)],
        generated_at=NOW,
    )


def test_html_contains_the_evidence() -> None:
    html = render_html(evidence(), locale="en")
    for expected in ("Churn Pilot", "ACME Telecom", "Churn prediction", "Data ready", "Late", "10 / 12",
                     "board priority", "customers", "7,043", "TotalCharges", "lightgbm", "roc_auc", "0.8734",
                     "churn-api", "1,520", "9.8", "mlpilot Sans"):
        assert expected in html, expected


def test_korean_report_uses_korean_question_text() -> None:
    html = render_html(evidence(), locale="ko")
    assert 'lang="ko"' in html and "비즈니스의 관심을 끌 만큼 중요한 문제입니까?" in html


def test_pdf_is_readable_and_carries_name_and_metric() -> None:
    pdf = render_pdf(render_html(evidence(), locale="en"))
    assert pdf.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Churn Pilot" in text and "0.8734" in text and "churn-api" in text


def test_empty_evidence_says_what_is_missing() -> None:
    bare = assemble_evidence(project=ProjectFacts(id=2, name="Empty", client="", description="", stage="discover",
                                                  usecase_key=None, usecase_name=None),
                             timeline=[], schedule=ScheduleSummary.model_validate(summarize_schedule([], NOW.date())),
                             screening=None, datasets=[], training=TrainingSummary([], None), services=[],
                             generated_at=NOW)
    html = render_html(bare, locale="en")
    assert "No datasets have been ingested yet." in html and "The project has not been screened yet." in html


def test_number_format() -> None:
    assert format_number(0.873412) == "0.8734" and format_number(1520) == "1,520" and format_number(None) == "—"


def test_korean_pdf_embeds_the_shipped_font_and_keeps_the_text() -> None:
    """The Hangul comes back out of the PDF and is drawn with NanumSquare from the package, not a system font."""
    pdf = render_pdf(render_html(evidence(), locale="ko"))
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "비즈니스의 관심을 끌 만큼 중요한 문제입니까?" in text
    fonts = {str(f.get_object()["/BaseFont"]) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert any(name.endswith("+mlpilot-Sans") for name in fonts), fonts
    assert not any("CJK" in name for name in fonts), fonts


def test_text_the_fonts_cannot_draw_fails_clearly_instead_of_boxes() -> None:
    item = evidence()
    html = render_html(item, locale="ko").replace("churn-api", "churn-api \U0001F600 \u0e01")
    with pytest.raises(InvalidInput) as caught:
        render_pdf(html)
    message = str(caught.value)
    assert "U+1F600" in message and "U+0E01" in message and "GRINNING FACE" in message


def test_missing_glyphs_ignores_styles_and_whitespace() -> None:
    assert missing_glyphs("<style>body{content:'\U0001F600'}</style><p>한글 English 漢字\t\n</p>") == []
    assert missing_glyphs("<p>ok \u2603</p>") == ["\u2603"]


def test_optional_sections_appear_once_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The communication log and deliverables are data-driven: a later domain registers them, templates list them."""
    from mlpilot.reports.blocks import Paragraph
    from mlpilot.reports.render import build_document
    from mlpilot.reports.sections import SECTIONS

    without = build_document(evidence(), kind="final", locale="ko", with_charts=False)
    assert "communication" not in [s.key for s in without.sections]
    monkeypatch.setitem(SECTIONS, "communication", lambda ctx: [Paragraph("회의 3건, 결정 2건")])
    made = build_document(evidence(), kind="final", locale="ko", with_charts=False)
    section = next(s for s in made.sections if s.key == "communication")
    assert section.heading.endswith("고객 소통 기록") and section.blocks == [Paragraph("회의 3건, 결정 2건")]
