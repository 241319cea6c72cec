"""REST route of the downloadable data-quality report of a dataset version (HTML or PDF)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.i18n import LOCALES, negotiate_locale
from mlpilot.datasets import quality_report
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.web import access

router = APIRouter(tags=["datasets"])


@router.get("/dataset-versions/{version_id}/quality-report", response_class=Response,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
            dependencies=[access.DatasetVersion.read])
def download_quality_report(version_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                            user: CurrentUser, format: str = Query("html", pattern=r"^(html|pdf)$"),
                            target: str | None = None,
                            task: str | None = Query(None, pattern=r"^(classification|regression)$"),
                            locale: str | None = Query(None, pattern=r"^[a-z]{2}$")) -> Response:
    version = datasets_service.get_dataset_version(session, version_id=version_id)
    projects_service.check_project_access(session, project_id=version.dataset.project_id, user=user)
    chosen = locale if locale in LOCALES else negotiate_locale(request.headers.get("accept-language"))
    content, media_type, filename = quality_report.build_quality_report(
        session, store=runtime.store, version_id=version_id, fmt=format, target=target, task=task, locale=chosen)
    disposition = "inline" if format == "html" else f'attachment; filename="{filename}"'
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
