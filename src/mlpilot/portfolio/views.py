"""The portfolio page: every project the user may see on one screen, red/amber/green with the reasons."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlpilot.core.deps import DbSession
from mlpilot.core.errors import InvalidInput
from mlpilot.portfolio import service
from mlpilot.projects.models import STAGES
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)
MAX_FILTER = 200


@router.get("/portfolio", response_class=HTMLResponse, dependencies=[access.SignedIn])
def portfolio_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    query = request.query_params
    filters = {k: (query.get(k) or "").strip()[:MAX_FILTER] for k in ("health", "owner", "stage", "client")}
    sort = (query.get("sort") or "health")[:20]
    descending = query.get("desc") == "1"
    error = None
    try:
        result = service.portfolio(session, user=user, sort=sort, descending=descending,
                                   health=filters["health"] or None, owner=filters["owner"] or None,
                                   stage=filters["stage"] or None, client=filters["client"] or None)
    except InvalidInput as exc:
        error = exc.detail
        sort, descending = "health", False
        filters = dict.fromkeys(filters, "")
        result = service.portfolio(session, user=user)
    return render(request, "portfolio/page.html", user=user, result=result, filters=filters, sort=sort,
                  descending=descending, stages=[s.value for s in STAGES], error=error,
                  healths=service.HEALTH_FILTERS, status_code=400 if error else 200)
