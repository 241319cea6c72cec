"""REST routes of the projects domain under /api/v1/projects."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import CurrentUser, MemberUser
from mlpilot.core.deps import DbSession
from mlpilot.projects import archive as archive_service
from mlpilot.projects import service
from mlpilot.projects.deps import ProjectAccess
from mlpilot.projects.schemas import (
    ArchiveChange,
    MemberAdd,
    MemberRead,
    ProjectCreate,
    ProjectDetail,
    ProjectRead,
    ProjectUpdate,
    StageChange,
    StageEventRead,
)
from mlpilot.web import access

router = APIRouter(prefix="/projects", tags=["projects"])


def _detail(session: DbSession, project_id: int) -> ProjectDetail:
    project = service.load_project_detail(session, project_id=project_id)
    members = [MemberRead(user_id=u.id, username=u.username, full_name=u.full_name, responsibility=m.responsibility)
               for m, u in service.list_members(session, project_id=project_id)]
    return ProjectDetail(
        **ProjectRead.model_validate(project).model_dump(),
        members=members,
        stage_events=[StageEventRead.model_validate(e) for e in project.stage_events],
    )


@router.get("", response_model=list[ProjectRead])
def list_projects(session: DbSession, user: CurrentUser) -> list[ProjectRead]:
    return [ProjectRead.model_validate(p) for p in service.list_projects(session, user=user)]


@router.post("", response_model=ProjectDetail, status_code=201)
def create_project(body: ProjectCreate, session: DbSession, user: MemberUser) -> ProjectDetail:
    project = service.create_project(session, user=user, **body.model_dump())
    return _detail(session, project.id)


@router.get("/{project_id}", response_model=ProjectDetail)
def get_project(project: ProjectAccess, session: DbSession) -> ProjectDetail:
    return _detail(session, project.id)


@router.patch("/{project_id}", response_model=ProjectDetail, dependencies=[access.Project.write])
def update_project(project_id: int, body: ProjectUpdate, session: DbSession, user: CurrentUser) -> ProjectDetail:
    service.update_project(session, project_id=project_id, user=user, **body.model_dump(exclude_unset=True))
    return _detail(session, project_id)


@router.post("/{project_id}/stage", response_model=ProjectDetail, dependencies=[access.Project.write])
def change_stage(project_id: int, body: StageChange, session: DbSession, user: CurrentUser) -> ProjectDetail:
    service.set_stage(session, project_id=project_id, user=user, stage=body.stage, note=body.note)
    return _detail(session, project_id)


@router.post("/{project_id}/archive", response_model=ProjectDetail, dependencies=[access.Project.write])
def archive(project_id: int, body: ArchiveChange, session: DbSession, user: CurrentUser) -> ProjectDetail:
    """Archive the project with a reason (audited); it keeps everything but trains no more until restored."""
    archive_service.archive_project(session, project_id=project_id, user=user, reason=body.reason)
    return _detail(session, project_id)


@router.post("/{project_id}/restore", response_model=ProjectDetail, dependencies=[access.Project.write])
def restore(project_id: int, session: DbSession, user: CurrentUser, body: ArchiveChange | None = None
            ) -> ProjectDetail:
    archive_service.restore_project(session, project_id=project_id, user=user, reason=body.reason if body else "")
    return _detail(session, project_id)


@router.post("/{project_id}/members", response_model=ProjectDetail, status_code=201,
        dependencies=[access.Project.write])
def add_member(project_id: int, body: MemberAdd, session: DbSession, user: CurrentUser) -> ProjectDetail:
    service.add_member(session, project_id=project_id, user=user, username=body.username,
                       responsibility=body.responsibility)
    return _detail(session, project_id)


@router.delete("/{project_id}/members/{user_id}", response_model=ProjectDetail, dependencies=[access.Project.write])
def remove_member(project_id: int, user_id: int, session: DbSession, user: CurrentUser) -> ProjectDetail:
    service.remove_member(session, project_id=project_id, user=user, user_id=user_id)
    return _detail(session, project_id)
