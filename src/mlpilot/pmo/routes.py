"""REST routes of the pmo domain: milestones, tasks and the schedule summary of a project."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession
from mlpilot.pmo import service
from mlpilot.pmo.schemas import (
    MilestoneCreate,
    MilestoneRead,
    MilestoneUpdate,
    ScheduleSummary,
    TaskCreate,
    TaskRead,
    TaskUpdate,
)
from mlpilot.projects.deps import ProjectAccess
from mlpilot.web import access

router = APIRouter(prefix="/projects/{project_id}", tags=["pmo"])


@router.get("/milestones", response_model=list[MilestoneRead])
def list_milestones(project: ProjectAccess, session: DbSession) -> list[MilestoneRead]:
    return [MilestoneRead.model_validate(m) for m in service.list_milestones(session, project_id=project.id)]


@router.post("/milestones", response_model=MilestoneRead, status_code=201, dependencies=[access.Project.write])
def create_milestone(project_id: int, body: MilestoneCreate, session: DbSession, user: CurrentUser) -> MilestoneRead:
    milestone = service.create_milestone(session, project_id=project_id, user=user, **body.model_dump())
    return MilestoneRead.model_validate(milestone)


@router.patch("/milestones/{milestone_id}", response_model=MilestoneRead, dependencies=[access.Project.write])
def update_milestone(project_id: int, milestone_id: int, body: MilestoneUpdate, session: DbSession,
                     user: CurrentUser) -> MilestoneRead:
    milestone = service.update_milestone(session, project_id=project_id, milestone_id=milestone_id, user=user,
                                         **body.model_dump(exclude_unset=True))
    return MilestoneRead.model_validate(milestone)


@router.get("/tasks", response_model=list[TaskRead])
def list_tasks(project: ProjectAccess, session: DbSession) -> list[TaskRead]:
    return [TaskRead.model_validate(t) for t in service.list_tasks(session, project_id=project.id)]


@router.post("/tasks", response_model=TaskRead, status_code=201, dependencies=[access.Project.write])
def create_task(project_id: int, body: TaskCreate, session: DbSession, user: CurrentUser) -> TaskRead:
    task = service.create_task(session, project_id=project_id, user=user, **body.model_dump())
    return TaskRead.model_validate(task)


@router.patch("/tasks/{task_id}", response_model=TaskRead, dependencies=[access.Project.write])
def update_task(project_id: int, task_id: int, body: TaskUpdate, session: DbSession, user: CurrentUser) -> TaskRead:
    task = service.update_task(session, project_id=project_id, task_id=task_id, user=user,
                               **body.model_dump(exclude_unset=True))
    return TaskRead.model_validate(task)


@router.get("/schedule", response_model=ScheduleSummary)
def schedule_summary(project: ProjectAccess, session: DbSession) -> ScheduleSummary:
    return service.schedule_summary(session, project_id=project.id)
