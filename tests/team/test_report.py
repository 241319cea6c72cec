"""The build-in-house vs managed section of the status report, in English and Korean, with its bar chart."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mlpilot.reports.render import render_html, render_pdf
from mlpilot.reports.service import collect_evidence
from tests.projects.factories import make_project


def test_status_report_includes_the_comparison(session: Session) -> None:
    project = make_project(session)
    evidence = collect_evidence(session, project_id=project.id)
    assert evidence.team is not None and evidence.team.basis == "reference" and evidence.team.years == 3
    html = render_html(evidence, locale="en")
    assert "Build in house or use a managed service" in html and "<img" in html.split("in house or use a managed")[1]
    assert f"{evidence.team.in_house.total:,.0f}" in html and "Year 3" in html
    korean = render_html(collect_evidence(session, project_id=project.id, locale="ko"), locale="ko")
    assert "자체 구축과 관리형 서비스 비교" in korean and "3년차" in korean
    assert render_pdf(korean).startswith(b"%PDF")
