"""Web pages of the usecases domain: the use-case explorer and a project's screening section."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.blueprints import service as blueprints_service
from mlpilot.blueprints.spec import BlueprintSpec
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlpilot.core.i18n import get_translations
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.usecases import catalog, service
from mlpilot.usecases.catalog import MAX_QUERY
from mlpilot.usecases.screening import ANSWER_SCORES, BLOCKING_QUESTIONS, GO_THRESHOLD, MAX_SCORE, QUESTIONS
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
# The explorer shows this many cards; a bigger result asks for a narrower search.
PAGE_SIZE = 60
QUADRANT_COLOURS = {"do-first": "#16a34a", "prepare-data": "#2f5bea", "quick-win": "#d97706", "drop": "#9ca3af"}


@router.get("/usecases", response_class=HTMLResponse)
def usecases_page(request: Request, user: PageUser, industry: str = Query("", max_length=40),
                  task: str = Query("", max_length=40), difficulty: str = Query("", max_length=20),
                  q: str = Query("", max_length=MAX_QUERY)) -> HTMLResponse:
    error = None
    try:
        found = service.list_usecases(industry=industry, task=task, difficulty=difficulty, query=q)
    except InvalidInput as exc:
        found, error = [], exc.detail
    return render(request, "usecases/catalog.html", user=user, usecases=found[:PAGE_SIZE], matches=len(found),
                  page_size=PAGE_SIZE, error=error,
                  industries=catalog.INDUSTRIES, tasks=catalog.TASKS, difficulties=catalog.DIFFICULTIES,
                  selected={"industry": industry, "task": task, "difficulty": difficulty, "q": q},
                  total=len(catalog.list_usecases()),
                  can_create=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member])


def matrix_chart(points: list[service.MatrixPoint], *, value_label: str = "value",
                 feasibility_label: str = "feasibility") -> dict[str, Any]:
    """The Chart.js scatter of the candidates: feasibility across, value up, one colour per quadrant."""
    datasets = [{"label": p.label, "backgroundColor": QUADRANT_COLOURS[p.quadrant], "pointRadius": 8,
                 "data": [{"x": p.feasibility_score, "y": p.value_score}]} for p in points]
    axis = {"min": 0, "max": 100}
    return {"type": "scatter", "data": {"datasets": datasets},
            "options": {"scales": {"x": {**axis, "title": {"display": True, "text": feasibility_label}},
                                   "y": {**axis, "title": {"display": True, "text": value_label}}}}}


def _go_blueprint(session: DbSession, decision: str | None, candidate: catalog.UseCase | None,
                  can_write: bool) -> BlueprintSpec | None:
    """The blueprint a "go" can instantiate: the screened use case's, when this installation has it."""
    if decision != "go" or candidate is None or not candidate.blueprint or not can_write:
        return None
    try:
        return blueprints_service.get_blueprint(session, name=candidate.blueprint).spec
    except NotFound:
        return None


def _screening_fragment(request: Request, session: DbSession, user: User, project_id: int, *,
                        error: str | None = None, draft: dict[str, Any] | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    current = service.get_current_screening(session, project_id=project_id)
    history = service.list_screenings(session, project_id=project_id)
    can_write = ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]
    draft = draft or {}
    answers = draft.get("answers") or (current.answers if current else {})
    locale = request_locale(request, user)
    gettext = get_translations(locale).gettext
    points = service.priority_matrix(session, project_id=project_id, locale=locale)
    versions = datasets_service.list_project_versions(session, project_id=project_id)
    candidate = service.find_usecase(key=current.usecase_key if current else project.usecase_key)
    return render(request, "usecases/_screening.html", user=user, p=project, current=current, history=history,
                  questions=QUESTIONS, answers=answers, answer_values=list(ANSWER_SCORES), go_threshold=GO_THRESHOLD,
                  max_score=MAX_SCORE, blocking=BLOCKING_QUESTIONS, can_write=can_write, error=error,
                  usecases=catalog.list_usecases(), versions=versions, draft=draft,
                  candidate=candidate,
                  go_blueprint=_go_blueprint(session, current.decision if current else None, candidate, can_write),
                  points=points, chart=matrix_chart(points, value_label=gettext("Value"),
                                                    feasibility_label=gettext("Feasibility")) if points else None,
                  blocked=projects_service.build_blocked(project), is_admin=user.role == Role.admin,
                  gate_changes=projects_service.list_build_gate_changes(session, project_id=project_id))


@router.get("/projects/{project_id}/_section/screening", response_class=HTMLResponse,
        dependencies=[access.Project.read])
def screening_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _screening_fragment(request, session, user, project_id)


@router.post("/projects/{project_id}/_section/screening", response_class=HTMLResponse,
        dependencies=[access.Project.write])
async def screening_submit(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                           user: PageUser) -> HTMLResponse:
    form = await request.form()
    # An unticked question is left out, so the service reports it as "not answered".
    answers = {q.key: {"answer": str(form.get(f"answer_{q.key}")), "note": str(form.get(f"note_{q.key}", ""))}
               for q in QUESTIONS if form.get(f"answer_{q.key}")}
    version = str(form.get("dataset_version_id") or "").strip()
    draft = {"answers": answers, "usecase_key": str(form.get("usecase_key") or "")[:80],
             "dataset_version_id": version, "target": str(form.get("target") or "")[:200],
             "time_column": str(form.get("time_column") or "")[:200]}
    # Profiling and the database work are synchronous: keep them off the event loop.
    return await run_in_threadpool(_record_and_render, request, session, runtime.store, user, project_id, draft)


def _record_and_render(request: Request, session: DbSession, store: ArtifactStore, user: User, project_id: int,
                       draft: dict[str, Any]) -> HTMLResponse:
    try:
        version = draft["dataset_version_id"]
        if version and not version.isdigit():
            raise InvalidInput(f"dataset_version_id: {version!r} is not a dataset version id.")
        service.record_screening(session, store=store, project_id=project_id, user=user, answers=draft["answers"],
                                 usecase_key=draft["usecase_key"] or None,
                                 dataset_version_id=int(version) if version else None,
                                 target=draft["target"] or None, time_column=draft["time_column"] or None)
    except (InvalidInput, PermissionDenied, NotFound) as exc:
        # HTMX swaps only 2xx responses, so the form comes back with the reason shown inline.
        return _screening_fragment(request, session, user, project_id, error=exc.detail, draft=draft)
    return _screening_fragment(request, session, user, project_id)


@router.post("/projects/{project_id}/_section/screening/override", response_class=HTMLResponse,
        dependencies=[access.Project.read, access.AdminOnly])
async def override_submit(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    form = await request.form()
    reason = str(form.get("reason") or "")[:1000]
    return await run_in_threadpool(_override_and_render, request, session, user, project_id, reason)


def _override_and_render(request: Request, session: DbSession, user: User, project_id: int,
                         reason: str) -> HTMLResponse:
    try:
        service.override_build_block(session, project_id=project_id, user=user, reason=reason)
    except (InvalidInput, PermissionDenied, Conflict) as exc:
        return _screening_fragment(request, session, user, project_id, error=exc.detail)
    return _screening_fragment(request, session, user, project_id)
