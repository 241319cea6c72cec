"""Web pages of the registry domain: the project's models section."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlpilot.core.deps import DbSession
from mlpilot.projects import service as projects_service
from mlpilot.registry import service
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/_section/models", response_class=HTMLResponse)
def models_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    rows = []
    for mv in service.list_model_versions(session, project_id=project_id):
        metric = next((m for m in ("roc_auc", "log_loss", "rmse") if mv.metrics.get(m) is not None), None)
        rows.append({"mv": mv, "metric": metric, "value": mv.metrics.get(metric) if metric else None,
                     "inputs": len(mv.signature.get("inputs", [])), "task": mv.signature.get("task")})
    return render(request, "registry/_section.html", user=user, p=project, rows=rows)
