"""Web page of batch scoring: every run with its progress (refreshed while runs are active)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlpilot.core.deps import DbSession
from mlpilot.scoring import service
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/scoring", response_class=HTMLResponse)
def scoring_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    runs = service.list_runs(session)
    return render(request, "scoring/list.html", user=user, runs=runs,
                  active=any(r.state in ("queued", "running") for r in runs))


@router.get("/scoring/_runs", response_class=HTMLResponse)
def scoring_runs_fragment(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    runs = service.list_runs(session)
    return render(request, "scoring/_runs.html", user=user, runs=runs,
                  active=any(r.state in ("queued", "running") for r in runs))
