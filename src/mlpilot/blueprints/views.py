"""Web pages of the blueprints domain: the marketplace (cards, search, filters), instantiate, import, publish."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.blueprints import service
from mlpilot.blueprints.schemas import BlueprintSummary
from mlpilot.blueprints.spec import MAX_FILE_BYTES, TASKS
from mlpilot.core import jobs
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import MlpilotError, PayloadTooLarge
from mlpilot.projects import service as projects_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)


def _job_view(session: DbSession, user: User, job_id: int | None) -> dict[str, Any] | None:
    if job_id is None:
        return None
    try:
        job = jobs.get_job(session, job_id=job_id)
    except MlpilotError:
        return None
    if job.kind != service.INSTANTIATE_JOB or (job.created_by_id != user.id and user.role != Role.admin):
        return None
    result = job.result or {}
    return {"id": job.id, "state": str(job.state), "progress": round(100 * (job.progress or 0)),
            "message": job.message, "error": job.error, "project_id": result.get("project_id"),
            "project_name": job.params.get("project_name"), "services": result.get("services") or []}


@router.get("/blueprints", response_class=HTMLResponse, dependencies=[access.SignedIn])
def marketplace(request: Request, session: DbSession, user: PageUser, q: str = Query("", max_length=200),
                industry: str = Query("", max_length=60), task: str = Query("", max_length=20),
                origin: str = Query("", max_length=20), job: int | None = Query(None, ge=1, le=2**62),
                error: str = Query("", max_length=1000), notice: str = Query("", max_length=1000)) -> HTMLResponse:
    locale = request_locale(request, user)
    everything = service.list_blueprints(session)
    try:
        found = service.list_blueprints(session, query=q or None, industry=industry or None, task=task or None,
                                        origin=origin or None)
    except MlpilotError as exc:
        found, error = [], exc.detail
    can_publish = ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]
    projects = projects_service.list_projects(session, user=user) if can_publish else []
    return render(request, "blueprints/marketplace.html", user=user,
                  cards=[BlueprintSummary.of(e, locale) for e in found], total=len(everything),
                  industries=sorted({e.spec.industry for e in everything if e.spec.industry}), tasks=TASKS,
                  origins=("builtin", "published", "imported"),
                  selected={"q": q, "industry": industry, "task": task, "origin": origin},
                  can_publish=can_publish, projects=projects, job=_job_view(session, user, job), error=error,
                  notice=notice)


@router.post("/blueprints/{blueprint}/instantiate", dependencies=[access.MemberRole])
def instantiate_page(blueprint: str, session: DbSession, user: PageUser, runtime: RuntimeDep,
                     project_name: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        started = service.start_instantiation(session, runtime=runtime, user=user, name=blueprint[:100],
                                              project_name=project_name)
    except MlpilotError as exc:
        return RedirectResponse(f"/blueprints?error={quote(exc.detail[:900])}#bp-{quote(blueprint[:100])}",
                                status_code=303)
    return RedirectResponse(f"/blueprints?job={started.id}", status_code=303)


@router.post("/blueprints/import", dependencies=[access.MemberRole])
async def import_page(session: DbSession, user: PageUser, file: UploadFile) -> Response:
    try:
        data = await file.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise PayloadTooLarge(f"file: a blueprint file is at most {MAX_FILE_BYTES // 1024} KiB.")
        entry = await run_in_threadpool(service.import_document, session, user=user, text=data)
    except MlpilotError as exc:
        return RedirectResponse(f"/blueprints?error={quote(exc.detail[:900])}", status_code=303)
    return RedirectResponse(f"/blueprints?notice={quote(entry.name)}#bp-{quote(entry.name)}", status_code=303)


@router.post("/blueprints/publish", dependencies=[access.MemberRole])
def publish_page(session: DbSession, user: PageUser, project_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
                 name: Annotated[str, Form(max_length=63)], title_en: Annotated[str, Form(max_length=300)],
                 title_ko: Annotated[str, Form(max_length=300)],
                 description_en: Annotated[str, Form(max_length=2000)],
                 description_ko: Annotated[str, Form(max_length=2000)]) -> Response:
    try:
        entry = service.publish_project(session, user=user, project_id=project_id, name=name.strip(),
                                        title_en=title_en, title_ko=title_ko, description_en=description_en,
                                        description_ko=description_ko)
    except MlpilotError as exc:
        return RedirectResponse(f"/blueprints?error={quote(exc.detail[:900])}#publish", status_code=303)
    return RedirectResponse(f"/blueprints?notice={quote(entry.name)}#bp-{quote(entry.name)}", status_code=303)
