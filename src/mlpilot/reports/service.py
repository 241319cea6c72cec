"""Use cases of the reports domain: render a project's status report (HTML + PDF) from live evidence.

Rendering runs as the `reports.render` job. The files are stored first and the Report row is committed
last, so a failure leaves neither a row nor stray files behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core import jobs
from mlpilot.core.db import get_existing, session_scope, unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput
from mlpilot.core.i18n import LOCALES, get_translations
from mlpilot.core.jobs import Job, JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import service as datasets_service
from mlpilot.monitoring import service as monitoring_service
from mlpilot.pmo import service as pmo_service
from mlpilot.projects import service as projects_service
from mlpilot.reports.evidence import Evidence, ProjectFacts, ScreeningFacts, assemble_evidence
from mlpilot.reports.models import Report
from mlpilot.reports.render import render_html, render_pdf
from mlpilot.team import service as team_service
from mlpilot.training import service as training_service
from mlpilot.usecases import service as usecases_service

RENDER_JOB = "reports.render"
FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def _check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise InvalidInput(f"Report locale {locale!r} is not supported; expected one of: {', '.join(LOCALES)}.")
    return locale


def collect_evidence(session: Session, *, project_id: int, locale: str = "en",
                     now: dt.datetime | None = None) -> Evidence:
    """Gather the live evidence of a project from every domain's service."""
    project = projects_service.get_project(session, project_id=project_id)
    usecase = usecases_service.find_usecase(key=project.usecase_key)
    screening = usecases_service.get_current_screening(session, project_id=project_id)
    now = now or utcnow()
    evidence = assemble_evidence(
        project=ProjectFacts(id=project.id, name=project.name, client=project.client,
                             description=project.description, stage=project.stage, usecase_key=project.usecase_key,
                             usecase_name=usecase.localized_title(locale) if usecase else None),
        timeline=projects_service.stage_timeline(session, project_id=project_id),
        schedule=pmo_service.schedule_summary(session, project_id=project_id, today=now.date()),
        screening=None if screening is None else ScreeningFacts(
            score=screening.score, max_score=screening.max_score, decision=screening.decision,
            answers=screening.answers, created_at=screening.created_at),
        datasets=datasets_service.project_summary(session, project_id=project_id),
        training=training_service.project_summary(session, project_id=project_id),
        services=monitoring_service.summarize_project_services(session, project_id=project_id),
        generated_at=now,
    )
    return dataclasses.replace(evidence, team=team_service.compare_build_vs_managed(session, project_id=project_id))


def create_report(session: Session, *, store: ArtifactStore, project_id: int, locale: str = "en",
                  user_id: int | None = None, job_id: int | None = None,
                  on_progress: Callable[[float, str], None] | None = None) -> Report:
    """Render and store a status report now (the job's body); files first, the Report row last."""
    _check_locale(locale)
    report_progress = on_progress or (lambda fraction, message: None)
    evidence = collect_evidence(session, project_id=project_id, locale=locale)
    report_progress(0.3, "rendering HTML")
    html = render_html(evidence, locale=locale)
    report_progress(0.5, "rendering PDF")
    pdf = render_pdf(html)
    report_progress(0.9, "storing files")
    html_bytes = html.encode("utf-8")
    prefix = f"projects/{project_id}/reports/{uuid.uuid4().hex}"
    html_key, pdf_key = f"{prefix}/report.html", f"{prefix}/report.pdf"
    try:
        store.put_bytes(html_key, html_bytes)
        store.put_bytes(pdf_key, pdf)
        with unit_of_work(session):
            _ = get_translations(locale).gettext
            title = f"{evidence.project.name} — {_('Status report')} {evidence.generated_at:%Y-%m-%d}"
            report = Report(project_id=project_id, kind="status", locale=locale, title=title[:300],
                            html_key=html_key, pdf_key=pdf_key, html_sha256=hashlib.sha256(html_bytes).hexdigest(),
                            pdf_sha256=hashlib.sha256(pdf).hexdigest(), html_bytes=len(html_bytes),
                            pdf_bytes=len(pdf), created_by_id=user_id, job_id=job_id)
            session.add(report)
            session.flush()
    except BaseException:
        store.delete(prefix)
        raise
    return report


def request_report(session: Session, *, runtime: Runtime, project_id: int, user: User, locale: str = "en") -> Job:
    """Start a job that renders the project's status report in `locale`."""
    _check_locale(locale)
    with unit_of_work(session):
        project = projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        job = jobs.create_job(session, runtime=runtime, kind=RENDER_JOB,
                              params={"project_id": project.id, "locale": locale}, user_id=user.id,
                              project_id=project.id, message="queued: status report")
    return job


@job_handler(RENDER_JOB)
def _render_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.1, "collecting evidence", force=True)
    with session_scope(ctx.runtime.sessions) as session:
        report = create_report(session, store=ctx.runtime.store, project_id=int(params["project_id"]),
                               locale=str(params.get("locale", "en")), user_id=ctx.user_id, job_id=ctx.job_id,
                               on_progress=lambda fraction, message: ctx.progress(fraction, message, force=True))
        ctx.log(f"stored report {report.id}: {report.html_key}, {report.pdf_key}")
        return {"report_id": report.id}


def get_report(session: Session, *, report_id: int) -> Report:
    """Return report `report_id`."""
    return get_existing(session, Report, report_id, "Report")


def list_reports(session: Session, *, project_id: int) -> list[Report]:
    """Return the project's reports, newest first."""
    projects_service.get_project(session, project_id=project_id)
    return list(session.scalars(select(Report).where(Report.project_id == project_id).order_by(Report.id.desc())))


def read_report_file(session: Session, *, store: ArtifactStore, report_id: int,
                     fmt: str) -> tuple[bytes, str, str]:
    """Return (content, media type, file name) of a report as pdf or html."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r} is not available; expected pdf or html.")
    report = get_report(session, report_id=report_id)
    key = report.pdf_key if fmt == "pdf" else report.html_key
    project = projects_service.get_project(session, project_id=report.project_id)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in project.name).strip("-") or "project"
    filename = f"{safe}-status-{report.created_at:%Y%m%d}-{report.id}.{fmt}"
    return store.get_bytes(key), FORMATS[fmt], filename


def list_render_jobs(session: Session, *, project_id: int, limit: int = 5) -> list[Job]:
    """Return the project's newest report-rendering jobs."""
    return [j for j in jobs.list_jobs(session, project_id=project_id, limit=50) if j.kind == RENDER_JOB][:limit]
