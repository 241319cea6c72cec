"""REST routes of the feeder: pipelines of a project, their run history, "run now" and enable/disable."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import CurrentUser
from mlpilot.accounts.models import User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.feeder import service
from mlpilot.feeder.models import Pipeline
from mlpilot.feeder.schemas import (
    PipelineCreate,
    PipelineDetail,
    PipelineRead,
    PipelineRunDetail,
    PipelineRunRead,
    PipelineUpdate,
    RunStarted,
)
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess, ProjectWriteAccess
from mlpilot.web import access

router = APIRouter(tags=["feeder"])


def _pipeline(session: DbSession, user: User, pipeline_id: int, *, write: bool = False) -> Pipeline:
    pipeline = service.get_pipeline(session, pipeline_id=pipeline_id)
    projects_service.check_project_access(session, project_id=pipeline.project_id, user=user, write=write)
    return pipeline


def _read(session: DbSession, pipeline: Pipeline) -> PipelineRead:
    last = service.find_last_run(session, pipeline_id=pipeline.id)
    return PipelineRead.model_validate(pipeline).model_copy(
        update={"last_run": PipelineRunRead.model_validate(last) if last else None})


def _detail(session: DbSession, pipeline: Pipeline) -> PipelineDetail:
    runs = [PipelineRunRead.model_validate(r) for r in service.list_pipeline_runs(session, pipeline_id=pipeline.id)]
    return PipelineDetail(**_read(session, pipeline).model_dump(), runs=runs)


@router.post("/projects/{project_id}/pipelines", response_model=PipelineDetail, status_code=201)
def create_pipeline(project: ProjectWriteAccess, body: PipelineCreate, session: DbSession,
                    user: CurrentUser) -> PipelineDetail:
    pipeline = service.create_pipeline(session, project_id=project.id, user_id=user.id, **body.model_dump())
    return _detail(session, pipeline)


@router.get("/projects/{project_id}/pipelines", response_model=list[PipelineRead])
def list_pipelines(project: ProjectAccess, session: DbSession) -> list[PipelineRead]:
    return [_read(session, p) for p in service.list_pipelines(session, project_id=project.id)]


@router.get("/pipelines/{pipeline_id}", response_model=PipelineDetail, dependencies=[access.Pipeline.read])
def get_pipeline(pipeline_id: int, session: DbSession, user: CurrentUser) -> PipelineDetail:
    return _detail(session, _pipeline(session, user, pipeline_id))


@router.patch("/pipelines/{pipeline_id}", response_model=PipelineDetail, dependencies=[access.Pipeline.write])
def update_pipeline(pipeline_id: int, body: PipelineUpdate, session: DbSession, user: CurrentUser) -> PipelineDetail:
    _pipeline(session, user, pipeline_id, write=True)
    pipeline = service.update_pipeline(session, pipeline_id=pipeline_id, **body.model_dump(exclude_unset=True))
    return _detail(session, pipeline)


@router.post("/pipelines/{pipeline_id}/run", response_model=RunStarted, status_code=202,
        dependencies=[access.Pipeline.write])
def run_pipeline(pipeline_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser) -> RunStarted:
    _pipeline(session, user, pipeline_id, write=True)
    run = service.start_pipeline_run(session, runtime=runtime, pipeline_id=pipeline_id, user_id=user.id)
    return RunStarted(run=PipelineRunRead.model_validate(run), job_id=run.job_id)


@router.get("/pipeline-runs/{run_id}", response_model=PipelineRunDetail, dependencies=[access.PipelineRun.read])
def get_pipeline_run(run_id: int, session: DbSession, user: CurrentUser) -> PipelineRunDetail:
    run = service.get_pipeline_run(session, run_id=run_id)
    _pipeline(session, user, run.pipeline_id)
    return PipelineRunDetail(**PipelineRunRead.model_validate(run).model_dump(),
                             log=service.get_run_log(session, run_id=run_id))
