"""Use cases of the projects domain: create, read, change stage, manage members, check access."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import Role, User
from mlpilot.core.db import get_existing, unit_of_work
from mlpilot.core.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from mlpilot.projects.models import STAGES, BuildGateChange, Project, ProjectMember, Stage, StageEvent
from mlpilot.usecases import catalog


def get_project(session: Session, *, project_id: int) -> Project:
    """Return project `project_id`."""
    return get_existing(session, Project, project_id, "Project")


def find_project_by_name(session: Session, *, name: str) -> Project | None:
    """Return the project called `name`, if any."""
    return session.scalar(select(Project).where(Project.name == name))


def is_member(session: Session, *, project_id: int, user_id: int) -> bool:
    """Return whether the user belongs to the project."""
    stmt = select(ProjectMember.id).where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
    return session.scalar(stmt) is not None


def check_project_access(session: Session, *, project_id: int, user: User, write: bool = False) -> Project:
    """Return the project if `user` may read it (or change it, with write=True); else raise."""
    project = get_project(session, project_id=project_id)
    if user.role != Role.admin and not is_member(session, project_id=project_id, user_id=user.id):
        raise PermissionDenied(f"You are not a member of project {project.name!r}.")
    if write:
        accounts_service.require_role(user, Role.member)
    return project


def list_project_ids_of_user(session: Session, *, user_id: int) -> list[int]:
    """Return the ids of the projects `user_id` is a member of."""
    return list(session.scalars(select(ProjectMember.project_id).where(ProjectMember.user_id == user_id)))


def list_all_project_ids(session: Session) -> list[int]:
    """Return every project's id (for background work that covers all projects)."""
    return list(session.scalars(select(Project.id).order_by(Project.id)))


def list_projects(session: Session, *, user: User) -> list[Project]:
    """Return the projects `user` can see, newest first."""
    stmt = select(Project).order_by(Project.id.desc())
    if user.role != Role.admin:
        stmt = stmt.join(ProjectMember).where(ProjectMember.user_id == user.id)
    return list(session.scalars(stmt))


def _check_usecase(usecase_key: str | None) -> None:
    if usecase_key and catalog.find_usecase(usecase_key) is None:
        keys = ", ".join(u.key for u in catalog.list_usecases())
        raise InvalidInput(f"Unknown use case {usecase_key!r}; expected one of: {keys}.")


def create_project(session: Session, *, name: str, user: User, client: str = "", description: str = "",
                   usecase_key: str | None = None) -> Project:
    """Create a project in the discover stage with its creator as first member."""
    accounts_service.require_role(user, Role.member)
    _check_usecase(usecase_key)
    with unit_of_work(session):
        if find_project_by_name(session, name=name) is not None:
            raise Conflict(f"A project named {name!r} already exists.")
        project = Project(name=name.strip(), client=client, description=description, usecase_key=usecase_key,
                          stage=Stage.discover, created_by_id=user.id)
        session.add(project)
        session.flush()
        session.add(ProjectMember(project_id=project.id, user_id=user.id, responsibility="owner"))
        session.add(StageEvent(project_id=project.id, stage=Stage.discover, note="project created", user_id=user.id))
    return project


def update_project(session: Session, *, project_id: int, user: User, name: str | None = None,
                   client: str | None = None, description: str | None = None,
                   usecase_key: str | None = None) -> Project:
    """Change a project's descriptive fields."""
    with unit_of_work(session):
        project = check_project_access(session, project_id=project_id, user=user, write=True)
        if name is not None and name != project.name:
            if find_project_by_name(session, name=name) is not None:
                raise Conflict(f"A project named {name!r} already exists.")
            project.name = name
        if client is not None:
            project.client = client
        if description is not None:
            project.description = description
        if usecase_key is not None:
            _check_usecase(usecase_key)
            project.usecase_key = usecase_key
    return project


def set_stage(session: Session, *, project_id: int, user: User, stage: Stage, note: str = "") -> Project:
    """Move a project to `stage` and record when and why on its timeline."""
    with unit_of_work(session):
        project = check_project_access(session, project_id=project_id, user=user, write=True)
        stage = Stage(stage)
        if stage == Stage.build and project.stage != Stage.build:
            check_build_allowed(session, project_id=project_id)
        if project.stage != stage:
            project.stage = stage
            session.add(StageEvent(project_id=project.id, stage=stage, note=note, user_id=user.id))
    return project


def advance_stage_to(session: Session, *, project_id: int, user: User, stage: Stage, note: str = "") -> Project:
    """Move the project forward to `stage` if it is behind it (evidence-driven moves never go back)."""
    project = get_project(session, project_id=project_id)
    if STAGES.index(Stage(project.stage)) < STAGES.index(Stage(stage)):
        return set_stage(session, project_id=project_id, user=user, stage=stage, note=note)
    return project


def add_member(session: Session, *, project_id: int, user: User, username: str, responsibility: str = "") -> Project:
    """Add an existing user to the project."""
    with unit_of_work(session):
        project = check_project_access(session, project_id=project_id, user=user, write=True)
        member = accounts_service.find_user_by_username(session, username=username)
        if member is None:
            raise NotFound(f"No user named {username!r}.")
        if is_member(session, project_id=project_id, user_id=member.id):
            raise Conflict(f"{username!r} is already a member of {project.name!r}.")
        session.add(ProjectMember(project_id=project_id, user_id=member.id, responsibility=responsibility))
    session.refresh(project)
    return project


def remove_member(session: Session, *, project_id: int, user: User, user_id: int) -> Project:
    """Remove a member from the project."""
    with unit_of_work(session):
        project = check_project_access(session, project_id=project_id, user=user, write=True)
        member = session.scalar(
            select(ProjectMember).where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
        )
        if member is None:
            raise NotFound(f"User {user_id} is not a member of {project.name!r}.")
        session.delete(member)
    session.refresh(project)
    return project


def list_members(session: Session, *, project_id: int) -> list[tuple[ProjectMember, User]]:
    """Return the members of a project with their users."""
    stmt = (select(ProjectMember, User).join(User, User.id == ProjectMember.user_id)
            .where(ProjectMember.project_id == project_id).order_by(User.username))
    return [(m, u) for m, u in session.execute(stmt)]


def load_project_detail(session: Session, *, project_id: int) -> Project:
    """Return the project with members and stage events loaded."""
    stmt = (select(Project).where(Project.id == project_id)
            .options(selectinload(Project.members), selectinload(Project.stage_events)))
    project = session.scalar(stmt)
    if project is None:
        raise NotFound(f"Project {project_id} does not exist.")
    return project


@dataclass(frozen=True)
class StageState:
    """One stage of a project's life: done, current or upcoming, and when it was last entered."""

    stage: str
    state: str
    entered_at: dt.datetime | None


def stage_timeline(session: Session, *, project_id: int) -> list[StageState]:
    """Return the six stages in order with state (done/current/upcoming) and when each was last entered."""
    project = load_project_detail(session, project_id=project_id)
    entered = {}
    for event in project.stage_events:
        entered[event.stage] = event.at
    current = STAGES.index(Stage(project.stage))
    return [StageState(stage=stage.value, entered_at=entered.get(stage.value),
                       state="done" if i < current else "current" if i == current else "upcoming")
            for i, stage in enumerate(STAGES)]


GO, NO_GO = "go", "no-go"


def build_blocked(project: Project) -> bool:
    """Whether the project may not build: its newest screening said no-go and no admin has overridden it."""
    return project.screening_decision == NO_GO and not project.build_override


def check_build_allowed(session: Session, *, project_id: int) -> None:
    """Raise Conflict when the project's newest screening is no-go and no admin has overridden it."""
    project = get_project(session, project_id=project_id)
    if project.archived_at is not None:
        raise Conflict.translatable(N_("Project %(name)s is archived; restore it on its archive page to train "
                                       "again."), name=repr(project.name))
    if build_blocked(project):
        raise Conflict(f"Project {project.name!r} was screened no-go, so the build stage (training) is blocked. "
                       "Screen it again with better answers or data, or ask an admin to override the block with a "
                       f"reason (POST /api/v1/projects/{project.id}/build-override).")


def record_screening_decision(session: Session, *, project_id: int, user: User, decision: str, note: str) -> Project:
    """Store a screening's verdict on the project (clearing any override) and audit it; "go" advances the
    project from discover to design."""
    if decision not in (GO, NO_GO):
        raise InvalidInput(f"A screening decision is 'go' or 'no-go'; got {decision!r}.")
    with unit_of_work(session):
        project = check_project_access(session, project_id=project_id, user=user, write=True)
        project.screening_decision = decision
        project.build_override = False
        session.add(BuildGateChange(project_id=project_id, action="screened", decision=decision, reason=note[:1000],
                                    user_id=user.id))
        if decision == GO and project.stage == Stage.discover:
            project.stage = Stage.design
            session.add(StageEvent(project_id=project_id, stage=Stage.design, note="screening: go", user_id=user.id))
    return project


def override_build_block(session: Session, *, project_id: int, user: User, reason: str) -> Project:
    """Let a no-go project build anyway (admins only); the reason is kept in the audit trail."""
    accounts_service.require_role(user, Role.admin)
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise InvalidInput("reason: say why the no-go verdict is overridden (at least 3 characters).")
    with unit_of_work(session):
        project = get_project(session, project_id=project_id)
        if not build_blocked(project):
            raise Conflict(f"Project {project.name!r} is not blocked (its screening is "
                           f"{project.screening_decision or 'missing'}"
                           f"{', already overridden' if project.build_override else ''}); nothing to override.")
        project.build_override = True
        session.add(BuildGateChange(project_id=project_id, action="override", decision=project.screening_decision,
                                    reason=reason[:1000], user_id=user.id))
    return project


def list_build_gate_changes(session: Session, *, project_id: int) -> list[BuildGateChange]:
    """Return the project's build-gate audit trail, newest first."""
    get_project(session, project_id=project_id)
    stmt = (select(BuildGateChange).where(BuildGateChange.project_id == project_id)
            .order_by(BuildGateChange.id.desc()))
    return list(session.scalars(stmt))
