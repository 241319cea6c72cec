"""REST routes of the blueprints domain: browse, export, import, publish from a project, instantiate (a job)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.deps import CurrentUser
from mlpilot.blueprints import service
from mlpilot.blueprints.schemas import (
    BlueprintDetail,
    BlueprintSummary,
    InstantiateRequest,
    InstantiateStarted,
    PublishRequest,
)
from mlpilot.blueprints.spec import MAX_FILE_BYTES
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import PayloadTooLarge
from mlpilot.web import access

Name = Annotated[str, Path(min_length=1, max_length=100)]
Locale = Annotated[str, Query(pattern="^(en|ko)$")]
router = APIRouter(tags=["blueprints"])


@router.get("/blueprints", response_model=list[BlueprintSummary], dependencies=[access.SignedIn])
def list_blueprints(session: DbSession, q: Annotated[str | None, Query(max_length=200)] = None,
                    industry: Annotated[str | None, Query(max_length=60)] = None,
                    task: Annotated[str | None, Query(max_length=20)] = None,
                    origin: Annotated[str | None, Query(max_length=20)] = None,
                    locale: Locale = "en") -> list[BlueprintSummary]:
    found = service.list_blueprints(session, query=q, industry=industry, task=task, origin=origin)
    return [BlueprintSummary.of(e, locale) for e in found]


@router.get("/blueprints/{blueprint}", response_model=BlueprintDetail, dependencies=[access.SignedIn])
def get_blueprint(blueprint: Name, session: DbSession, locale: Locale = "en") -> BlueprintDetail:
    entry = service.get_blueprint(session, name=blueprint)
    return BlueprintDetail(**BlueprintSummary.of(entry, locale).model_dump(),
                           document=service.export_document(session, name=blueprint))


@router.get("/blueprints/{blueprint}/export", dependencies=[access.SignedIn])
def export_blueprint(blueprint: Name, session: DbSession) -> Response:
    entry = service.get_blueprint(session, name=blueprint)
    return Response(service.export_document(session, name=entry.name), media_type="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{entry.name}.yaml"'})


async def read_upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"file: a blueprint file is at most {MAX_FILE_BYTES // 1024} KiB.")
    return data


@router.post("/blueprints/import", response_model=BlueprintSummary, status_code=201,
             dependencies=[access.MemberRole])
async def import_blueprint(file: UploadFile, session: DbSession, user: CurrentUser,
                           replace: bool = False) -> BlueprintSummary:
    data = await read_upload(file)
    entry = await run_in_threadpool(service.import_document, session, user=user, text=data, replace=replace)
    return BlueprintSummary.of(entry)


@router.delete("/blueprints/{blueprint}", status_code=204, dependencies=[access.MemberRole])
def delete_blueprint(blueprint: Name, session: DbSession, user: CurrentUser) -> Response:
    service.delete_blueprint(session, user=user, name=blueprint)
    return Response(status_code=204)


@router.post("/blueprints/{blueprint}/instantiate", response_model=InstantiateStarted, status_code=202,
             dependencies=[access.MemberRole])
def instantiate_blueprint(blueprint: Name, body: InstantiateRequest, session: DbSession, user: CurrentUser,
                          runtime: RuntimeDep) -> InstantiateStarted:
    job = service.start_instantiation(session, runtime=runtime, user=user, name=blueprint,
                                      project_name=body.project_name, time_budget_s=body.time_budget_s)
    return InstantiateStarted(job_id=job.id, blueprint=blueprint, project_name=body.project_name.strip())


@router.post("/projects/{project_id}/blueprint", response_model=BlueprintSummary, status_code=201,
             dependencies=[access.Project.write, access.MemberRole])
def publish_blueprint(project_id: int, body: PublishRequest, session: DbSession,
                      user: CurrentUser) -> BlueprintSummary:
    entry = service.publish_project(session, user=user, project_id=project_id, name=body.name,
                                    title_en=body.title_en, title_ko=body.title_ko,
                                    description_en=body.description_en, description_ko=body.description_ko,
                                    plan_template=body.plan_template, replace=body.replace)
    return BlueprintSummary.of(entry)
