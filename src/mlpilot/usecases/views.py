"""Web pages of the usecases domain: the catalog page and a project's screening section."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import InvalidInput, PermissionDenied
from mlpilot.projects import service as projects_service
from mlpilot.usecases import catalog, service
from mlpilot.usecases.screening import ANSWER_SCORES, BLOCKING_QUESTIONS, GO_THRESHOLD, MAX_SCORE, QUESTIONS
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/usecases", response_class=HTMLResponse)
def usecases_page(request: Request, user: PageUser, industry: str = "", function: str = "",
                  task: str = "") -> HTMLResponse:
    found = service.list_usecases(industry=industry or None, business_function=function or None,
                                  task_type=task or None)
    return render(request, "usecases/catalog.html", user=user, usecases=found,
                  industries=catalog.list_industries(), functions=catalog.list_business_functions(),
                  tasks=catalog.list_task_types(), selected={"industry": industry, "function": function, "task": task},
                  can_create=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member])


def _screening_fragment(request: Request, session: DbSession, user: User, project_id: int, *,
                        error: str | None = None, draft: dict[str, Any] | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    current = service.get_current_screening(session, project_id=project_id)
    history = service.list_screenings(session, project_id=project_id)
    can_write = ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]
    answers = draft or (current.answers if current else {})
    return render(request, "usecases/_screening.html", user=user, p=project, current=current, history=history,
                  questions=QUESTIONS, answers=answers, answer_values=list(ANSWER_SCORES), go_threshold=GO_THRESHOLD,
                  max_score=MAX_SCORE, blocking=BLOCKING_QUESTIONS, can_write=can_write, error=error)


@router.get("/projects/{project_id}/_section/screening", response_class=HTMLResponse,
        dependencies=[access.Project.read])
def screening_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _screening_fragment(request, session, user, project_id)


@router.post("/projects/{project_id}/_section/screening", response_class=HTMLResponse,
        dependencies=[access.Project.write])
async def screening_submit(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    form = await request.form()
    # An unticked question is left out, so the service reports it as "not answered".
    answers = {q.key: {"answer": str(form.get(f"answer_{q.key}")), "note": str(form.get(f"note_{q.key}", ""))}
               for q in QUESTIONS if form.get(f"answer_{q.key}")}
    # The database work is synchronous: keep it off the event loop.
    return await run_in_threadpool(_record_and_render, request, session, user, project_id, answers)


def _record_and_render(request: Request, session: DbSession, user: User, project_id: int,
                       answers: dict[str, Any]) -> HTMLResponse:
    try:
        service.record_screening(session, project_id=project_id, user=user, answers=answers)
    except (InvalidInput, PermissionDenied) as exc:
        # HTMX swaps only 2xx responses, so the form comes back with the reason shown inline.
        return _screening_fragment(request, session, user, project_id, error=exc.detail, draft=answers)
    return _screening_fragment(request, session, user, project_id)
