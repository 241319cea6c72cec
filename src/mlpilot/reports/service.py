"""Use cases of the reports domain: render a project's documents from live evidence — the project plan
(수행계획서), status report (주간/월간 보고), interim report (중간보고서) and final report (완료보고서) — as
PDF, DOCX, HWPX and HTML, versioned per project, kind and language.

Rendering runs as the `reports.render` job. The files are stored first and the Report row is committed
last, so a failure leaves neither a row nor stray files behind.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core import jobs
from mlpilot.core.db import get_existing, session_scope, unit_of_work
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.i18n import LOCALES
from mlpilot.core.jobs import Job, JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.projects import service as projects_service
from mlpilot.reports import writers
from mlpilot.reports.collect import collect_evidence
from mlpilot.reports.doc_templates import KINDS
from mlpilot.reports.models import Report
from mlpilot.reports.render import build_document, render_file

RENDER_JOB = "reports.render"
FORMATS = {fmt: writers.MEDIA_TYPES[fmt] for fmt in ("pdf", "html", "docx", "hwpx")}


def _check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise InvalidInput(f"Report locale {locale!r} is not supported; expected one of: {', '.join(LOCALES)}.")
    return locale


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(f"Document kind {kind!r} is not supported; expected one of: {', '.join(KINDS)}.")
    return kind


def create_report(session: Session, *, store: ArtifactStore, project_id: int, locale: str = "en",
                  kind: str = "status", user_id: int | None = None, job_id: int | None = None,
                  runtime: Runtime | None = None,
                  on_progress: Callable[[float, str], None] | None = None) -> Report:
    """Render and store a document now (the job's body): every format's file first, the Report row last.

    A failure anywhere (a section, a format, the store) deletes what was stored and lists nothing.
    """
    _check_locale(locale)
    _check_kind(kind)
    report_progress = on_progress or (lambda fraction, message: None)
    evidence = collect_evidence(session, project_id=project_id, locale=locale, runtime=runtime)
    document = build_document(evidence, kind=kind, locale=locale, store=store, on_section=lambda i, n, key:
                              report_progress(0.15 + 0.45 * i / max(n, 1), f"section {key}"))
    report_progress(0.6, "rendering HTML")
    html = writers.to_html(document)
    files: dict[str, bytes] = {"html": html.encode("utf-8")}
    for fraction, fmt in ((0.65, "pdf"), (0.85, "docx"), (0.9, "hwpx")):
        report_progress(fraction, f"rendering {fmt.upper()}")
        files[fmt] = render_file(document, fmt, html=html)
    report_progress(0.95, "storing files")
    prefix = f"projects/{project_id}/reports/{uuid.uuid4().hex}"
    keys = {fmt: f"{prefix}/report.{fmt}" for fmt in files}
    try:
        for fmt, data in files.items():
            store.put_bytes(keys[fmt], data)
        with unit_of_work(session):
            version = 1 + (session.scalar(select(func.count()).select_from(Report).where(
                Report.project_id == project_id, Report.kind == kind, Report.locale == locale)) or 0)
            report = Report(project_id=project_id, kind=kind, locale=locale, title=document.title[:300],
                            version=version, html_key=keys["html"], pdf_key=keys["pdf"], docx_key=keys["docx"],
                            hwpx_key=keys["hwpx"], html_sha256=hashlib.sha256(files["html"]).hexdigest(),
                            pdf_sha256=hashlib.sha256(files["pdf"]).hexdigest(), html_bytes=len(files["html"]),
                            pdf_bytes=len(files["pdf"]), docx_bytes=len(files["docx"]),
                            hwpx_bytes=len(files["hwpx"]), created_by_id=user_id, job_id=job_id)
            session.add(report)
            session.flush()
    except BaseException:
        store.delete(prefix)
        raise
    return report


def request_report(session: Session, *, runtime: Runtime, project_id: int, user: User, locale: str = "en",
                   kind: str = "status") -> Job:
    """Start a job that renders the project's document of `kind` in `locale`."""
    _check_locale(locale)
    _check_kind(kind)
    with unit_of_work(session):
        project = projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        job = jobs.create_job(session, runtime=runtime, kind=RENDER_JOB,
                              params={"project_id": project.id, "locale": locale, "kind": kind},
                              user_id=user.id, project_id=project.id, message=f"queued: {kind} document")
    return job


@job_handler(RENDER_JOB)
def _render_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.1, "collecting evidence", force=True)
    with session_scope(ctx.runtime.sessions) as session:
        report = create_report(session, store=ctx.runtime.store, project_id=int(params["project_id"]),
                               locale=str(params.get("locale", "en")), kind=str(params.get("kind", "status")),
                               user_id=ctx.user_id, job_id=ctx.job_id, runtime=ctx.runtime,
                               on_progress=lambda fraction, message: ctx.progress(fraction, message, force=True))
        ctx.log(f"stored {report.kind} v{report.version} (report {report.id}) in pdf, docx, hwpx and html")
        return {"report_id": report.id, "version": report.version, "kind": report.kind}


def get_report(session: Session, *, report_id: int) -> Report:
    """Return report `report_id`."""
    return get_existing(session, Report, report_id, "Report")


def list_reports(session: Session, *, project_id: int) -> list[Report]:
    """Return the project's reports, newest first."""
    projects_service.get_project(session, project_id=project_id)
    return list(session.scalars(select(Report).where(Report.project_id == project_id).order_by(Report.id.desc())))


def read_report_file(session: Session, *, store: ArtifactStore, report_id: int,
                     fmt: str) -> tuple[bytes, str, str]:
    """Return (content, media type, file name) of a report as pdf, docx, hwpx or html."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r} is not available; expected one of: {', '.join(FORMATS)}.")
    report = get_report(session, report_id=report_id)
    key = {"pdf": report.pdf_key, "html": report.html_key, "docx": report.docx_key, "hwpx": report.hwpx_key}[fmt]
    if not key:
        raise NotFound(f"Report {report_id} has no {fmt} file (it was rendered before {fmt} was offered).")
    project = projects_service.get_project(session, project_id=report.project_id)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in project.name).strip("-") or "project"
    filename = f"{safe}-{report.kind}-v{report.version}-{report.created_at:%Y%m%d}.{fmt}"
    return store.get_bytes(key), FORMATS[fmt], filename


def list_render_jobs(session: Session, *, project_id: int, limit: int = 5) -> list[Job]:
    """Return the project's newest report-rendering jobs."""
    return [j for j in jobs.list_jobs(session, project_id=project_id, limit=50) if j.kind == RENDER_JOB][:limit]
