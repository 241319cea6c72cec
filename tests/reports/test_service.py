"""Status reports through the service: live evidence, stored files, and nothing left behind on failure."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
import weasyprint
from pypdf import PdfReader
from sqlalchemy.orm import Session

from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.storage import ArtifactStore
from mlpilot.pmo import service as pmo_service
from mlpilot.reports import service
from mlpilot.usecases import service as usecases_service
from mlpilot.usecases.screening import QUESTION_KEYS
from tests.projects.factories import make_project, make_user


def planned_project(session: Session):
    owner = make_user(session)
    project = make_project(session, user=owner, name=f"Report Pilot {uuid.uuid4().hex[:6]}")
    usecases_service.record_screening(session, project_id=project.id, user=owner,
                                      answers={**{k: "yes" for k in QUESTION_KEYS}, "unused_data": "partly"})
    today = dt.date.today()
    pmo_service.create_milestone(session, project_id=project.id, user=owner, name="Baseline model",
                                 start_date=today - dt.timedelta(days=30), due_date=today - dt.timedelta(days=4))
    return owner, project


def test_report_from_live_evidence(session: Session, store: ArtifactStore) -> None:
    owner, project = planned_project(session)
    evidence = service.collect_evidence(session, project_id=project.id, locale="ko")
    assert evidence.project.usecase_name == "고객 이탈 예측"
    assert evidence.screening is not None and evidence.screening.score == 11 and evidence.schedule.late == 1
    report = service.create_report(session, store=store, project_id=project.id, locale="en", user_id=owner.id)
    assert [r.id for r in service.list_reports(session, project_id=project.id)] == [report.id]
    html, media_type, filename = service.read_report_file(session, store=store, report_id=report.id, fmt="html")
    assert media_type.startswith("text/html") and filename.endswith(".html") and filename.startswith("Report-Pilot")
    assert project.name.encode() in html and b"11 / 12" in html and b"Baseline model" in html
    pdf, media_type, _ = service.read_report_file(session, store=store, report_id=report.id, fmt="pdf")
    assert media_type == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert project.name in text and "11 / 12" in text
    with pytest.raises(InvalidInput, match="exe"):
        service.read_report_file(session, store=store, report_id=report.id, fmt="exe")


def test_render_failure_leaves_no_report_and_no_files(session: Session, store: ArtifactStore,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _, project = planned_project(session)

    def broken_pdf(self, *args, **kwargs):
        raise RuntimeError("pango exploded")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken_pdf)
    with pytest.raises(RuntimeError, match="pango exploded"):
        service.create_report(session, store=store, project_id=project.id)
    assert service.list_reports(session, project_id=project.id) == []
    assert not store.exists(f"projects/{project.id}/reports")


def test_bad_locale_and_unknown_project(session: Session, store: ArtifactStore) -> None:
    _, project = planned_project(session)
    with pytest.raises(InvalidInput, match="'fr'"):
        service.create_report(session, store=store, project_id=project.id, locale="fr")
    with pytest.raises(NotFound, match="Project 424242"):
        service.create_report(session, store=store, project_id=424242)
    with pytest.raises(NotFound, match="Report 424242"):
        service.get_report(session, report_id=424242)
