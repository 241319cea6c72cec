"""REST routes of the training domain: start runs, read them, and the project leaderboard."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess, ProjectWriteAccess
from mlpilot.training import service
from mlpilot.training.schemas import LeaderboardEntry, RunCreate, RunRead, RunStarted

router = APIRouter(tags=["training"])


@router.post("/projects/{project_id}/runs", response_model=RunStarted, status_code=202)
def start_run(body: RunCreate, project: ProjectWriteAccess, session: DbSession, runtime: RuntimeDep,
              user: CurrentUser) -> RunStarted:
    run = service.create_run(session, runtime=runtime, project_id=project.id, user_id=user.id, **body.model_dump())
    return RunStarted(run=RunRead.model_validate(run), job_id=run.job_id)


@router.get("/projects/{project_id}/runs", response_model=list[RunRead])
def list_runs(project: ProjectAccess, session: DbSession) -> list[RunRead]:
    return [RunRead.model_validate(r) for r in service.list_runs(session, project_id=project.id)]


@router.get("/runs/{run_id}", response_model=RunRead)
def get_run(run_id: int, session: DbSession, user: CurrentUser) -> RunRead:
    run = service.get_run(session, run_id=run_id)
    projects_service.check_project_access(session, project_id=run.project_id, user=user)
    return RunRead.model_validate(run)


@router.get("/projects/{project_id}/leaderboard", response_model=list[LeaderboardEntry])
def get_leaderboard(project: ProjectAccess, session: DbSession, task: str | None = None) -> list[LeaderboardEntry]:
    return [LeaderboardEntry(**entry) for entry in service.leaderboard_entries(session, project_id=project.id,
                                                                                task=task)]
