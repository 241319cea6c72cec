"""REST routes of the reports domain: start a status report, list, read and download reports."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess
from mlpilot.reports import service
from mlpilot.reports.schemas import ReportCreate, ReportJob, ReportRead
from mlpilot.web import access

router = APIRouter(tags=["reports"])


@router.post("/projects/{project_id}/reports", response_model=ReportJob, status_code=202,
        dependencies=[access.Project.write])
def request_report(project_id: int, body: ReportCreate, session: DbSession, runtime: RuntimeDep,
                   user: CurrentUser) -> ReportJob:
    job = service.request_report(session, runtime=runtime, project_id=project_id, user=user, locale=body.locale)
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
            responses={200: {"content": {"application/pdf": {}, "text/html": {}}}},
            dependencies=[access.Report.read])
def download_report(report_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser,
                    format: str = Query("pdf", pattern=r"^(pdf|html)$")) -> Response:
    report = service.get_report(session, report_id=report_id)
    projects_service.check_project_access(session, project_id=report.project_id, user=user)
    content, media_type, filename = service.read_report_file(session, store=runtime.store, report_id=report_id,
                                                             fmt=format)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
