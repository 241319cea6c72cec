"""REST routes of the training domain: engines, experiments, runs (start, read, tag, compare, model card),
external HTTP engines and the project leaderboard."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess, ProjectWriteAccess
from mlpilot.training import model_card, service
from mlpilot.training.charts import comparison_charts
from mlpilot.training.schemas import (
    CompareResult,
    EngineInfo,
    ExperimentRead,
    ExternalEngineCreate,
    ExternalEngineRead,
    LeaderboardEntry,
    RunCreate,
    RunDetail,
    RunRead,
    RunStarted,
    RunUpdate,
)
from mlpilot.web import access

router = APIRouter(tags=["training"])


@router.get("/engines", response_model=list[EngineInfo])
def list_engines(user: CurrentUser) -> list[EngineInfo]:
    return service.list_engines()


@router.post("/projects/{project_id}/runs", response_model=RunStarted, status_code=202)
def start_run(body: RunCreate, project: ProjectWriteAccess, session: DbSession, runtime: RuntimeDep,
              user: CurrentUser) -> RunStarted:
    run = service.create_run(session, runtime=runtime, project_id=project.id, user_id=user.id, **body.model_dump())
    return RunStarted(run=RunRead.model_validate(run), job_id=run.job_id)


@router.get("/projects/{project_id}/runs", response_model=list[RunRead])
def list_runs(project: ProjectAccess, session: DbSession, tag: str | None = None,
              experiment_id: int | None = None) -> list[RunRead]:
    runs = service.list_runs(session, project_id=project.id)
    runs = [r for r in runs if (tag is None or tag in (r.tags or []))
            and (experiment_id is None or r.experiment_id == experiment_id)]
    return [RunRead.model_validate(r) for r in runs]


@router.get("/projects/{project_id}/experiments", response_model=list[ExperimentRead])
def list_experiments(project: ProjectAccess, session: DbSession) -> list[ExperimentRead]:
    return service.list_experiments(session, project_id=project.id)


@router.get("/runs/compare", response_model=CompareResult)
def compare_runs(session: DbSession, user: CurrentUser,
                 ids: Annotated[str, Query(description="Comma-separated run ids, e.g. 3,5")]) -> CompareResult:
    run_ids = _ids(ids)
    for run in service.get_runs(session, run_ids=run_ids):
        projects_service.check_project_access(session, project_id=run.project_id, user=user)
    comparison = service.compare_runs(session, run_ids=run_ids)
    return CompareResult(**comparison.as_dict(), charts=comparison_charts(comparison.records))


def _ids(ids: str) -> list[int]:
    try:
        return [int(part) for part in ids.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(f"ids must be comma-separated run ids such as 3,5; got {ids!r}.") from None


@router.get("/runs/{run_id}", response_model=RunDetail, dependencies=[access.Run.read])
def get_run(run_id: int, session: DbSession, user: CurrentUser) -> RunDetail:
    run = service.get_run(session, run_id=run_id)
    projects_service.check_project_access(session, project_id=run.project_id, user=user)
    return RunDetail.model_validate(run)


@router.patch("/runs/{run_id}", response_model=RunDetail, dependencies=[access.Run.write])
def update_run(run_id: int, body: RunUpdate, session: DbSession, user: CurrentUser) -> RunDetail:
    run = service.get_run(session, run_id=run_id)
    projects_service.check_project_access(session, project_id=run.project_id, user=user, write=True)
    run = service.update_run(session, run_id=run_id, tags=body.tags, notes=body.notes, add_tags=body.add_tags,
                             remove_tags=body.remove_tags)
    return RunDetail.model_validate(run)


@router.get("/runs/{run_id}/model-card", response_model=None, dependencies=[access.Run.read])
def get_model_card(run_id: int, session: DbSession, user: CurrentUser, locale: Literal["en", "ko"] = "en",
                   format: Literal["html", "pdf"] = "html") -> Response:
    run = service.get_run(session, run_id=run_id)
    projects_service.check_project_access(session, project_id=run.project_id, user=user)
    context = model_card.card_context(session, run=run)
    if format == "pdf":
        return Response(model_card.render_card_pdf(context, locale=locale), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="model-card-run-{run_id}-{locale}.pdf"'})
    return HTMLResponse(model_card.render_card_html(context, locale=locale))


@router.post("/projects/{project_id}/external-engines", response_model=ExternalEngineRead, status_code=201)
def create_external_engine(body: ExternalEngineCreate, project: ProjectWriteAccess, session: DbSession,
                           runtime: RuntimeDep, user: CurrentUser) -> ExternalEngineRead:
    config = body.model_dump(exclude={"secret_headers"})
    external = service.create_external_engine(session, runtime=runtime, project_id=project.id, config=config,
                                              secret_headers=body.secret_headers, user_id=user.id)
    return service.describe_external_engine(session, external, runtime)


@router.get("/projects/{project_id}/external-engines", response_model=list[ExternalEngineRead])
def list_external_engines(project: ProjectAccess, session: DbSession, runtime: RuntimeDep) -> list[ExternalEngineRead]:
    return [service.describe_external_engine(session, e, runtime)
            for e in service.list_external_engines(session, project_id=project.id)]


@router.delete("/projects/{project_id}/external-engines/{external_engine_id}", status_code=204)
def delete_external_engine(external_engine_id: int, project: ProjectWriteAccess, session: DbSession) -> Response:
    service.delete_external_engine(session, project_id=project.id, external_engine_id=external_engine_id)
    return Response(status_code=204)


@router.get("/projects/{project_id}/leaderboard", response_model=list[LeaderboardEntry])
def get_leaderboard(project: ProjectAccess, session: DbSession, task: str | None = None) -> list[LeaderboardEntry]:
    return service.leaderboard_entries(session, project_id=project.id, task=task)
