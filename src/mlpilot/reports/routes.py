"""REST routes of the reports domain: render a project document, list, read and download its versions, and the
admins' document templates."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess
from mlpilot.reports import doc_templates, service
from mlpilot.reports.schemas import ReportCreate, ReportJob, ReportRead, TemplateRead
from mlpilot.web import access

router = APIRouter(tags=["reports"])


@router.post("/projects/{project_id}/reports", response_model=ReportJob, status_code=202,
        dependencies=[access.Project.write])
def request_report(project_id: int, body: ReportCreate, session: DbSession, runtime: RuntimeDep,
                   user: CurrentUser) -> ReportJob:
    job = service.request_report(session, runtime=runtime, project_id=project_id, user=user, locale=body.locale,
                                 kind=body.kind)
    session.refresh(job)
    return ReportJob(job_id=job.id, state=job.state, report_id=(job.result or {}).get("report_id"))


@router.get("/projects/{project_id}/reports", response_model=list[ReportRead])
def list_reports(project: ProjectAccess, session: DbSession) -> list[ReportRead]:
    return [ReportRead.model_validate(r) for r in service.list_reports(session, project_id=project.id)]


@router.get("/reports/{report_id}", response_model=ReportRead, dependencies=[access.Report.read])
def get_report(report_id: int, session: DbSession, user: CurrentUser) -> ReportRead:
    report = service.get_report(session, report_id=report_id)
    projects_service.check_project_access(session, project_id=report.project_id, user=user)
    return ReportRead.model_validate(report)


@router.get("/reports/{report_id}/download", response_class=Response,
            responses={200: {"content": {media: {} for media in service.FORMATS.values()}}},
            dependencies=[access.Report.read])
def download_report(report_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
                    format: str = Query("pdf", pattern=r"^(pdf|html|docx|hwpx)$")) -> Response:
    report = service.get_report(session, report_id=report_id)
    projects_service.check_project_access(session, project_id=report.project_id, user=user)
    content, media_type, filename = service.read_report_file(session, store=runtime.store, report_id=report_id,
                                                             fmt=format)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


KindPath = Annotated[str, Path(pattern=r"^(plan|status|interim|final)$")]


def _template_read(kind: str, raw: bytes, customized: bool) -> TemplateRead:
    template = doc_templates.parse_template(raw, kind=kind)
    return TemplateRead(kind=kind, customized=customized, sections=[s.key for s in template.sections],
                        template=json.loads(raw))


@router.get("/document-templates/{kind}", response_model=TemplateRead, dependencies=[access.SignedIn])
def get_document_template(kind: KindPath, runtime: RuntimeDep) -> TemplateRead:
    """The template a document kind is rendered from (an admin's replacement, or the packaged default)."""
    raw, customized = doc_templates.template_source(runtime.store, kind)
    return _template_read(kind, raw, customized)


@router.put("/document-templates/{kind}", response_model=TemplateRead, dependencies=[access.AdminOnly])
async def put_document_template(kind: KindPath, request: Request, runtime: RuntimeDep) -> TemplateRead:
    """Replace the template of a document kind with the JSON file in the body (checked first; refused whole)."""
    raw = await request.body()
    if len(raw) > doc_templates.MAX_TEMPLATE_BYTES:
        raise InvalidInput(f"The template is larger than {doc_templates.MAX_TEMPLATE_BYTES // 1024} KiB.")
    doc_templates.replace_template(runtime.store, kind, raw)
    return _template_read(kind, raw, True)


@router.delete("/document-templates/{kind}", response_model=TemplateRead, dependencies=[access.AdminOnly])
def reset_document_template(kind: KindPath, runtime: RuntimeDep) -> TemplateRead:
    """Go back to the packaged template of a document kind."""
    doc_templates.reset_template(runtime.store, kind)
    raw, customized = doc_templates.template_source(runtime.store, kind)
    return _template_read(kind, raw, customized)
