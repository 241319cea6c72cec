"""Archiving a project: a risky action confirmed with a reason, audited, and undone by restoring it.

An archived project keeps everything (data, runs, models, services) but trains no more until it is restored.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import N_, Conflict, require_reason
from mlpilot.projects.models import Project, ProjectArchiveChange
from mlpilot.projects.service import check_project_access


def archive_project(session: Session, *, project_id: int, user: User, reason: str) -> Project:
    """Archive the project (training stops being allowed); the reason is required and kept."""
    text = require_reason(reason)
    with unit_of_work(session):
        project = check_project_access(session, project_id=project_id, user=user, write=True)
        if project.archived_at is not None:
            raise Conflict.translatable(N_("Project %(name)s is already archived."), name=repr(project.name))
        project.archived_at = utcnow()
        session.add(ProjectArchiveChange(project_id=project.id, action="archive", reason=text, user_id=user.id))
    return project


def restore_project(session: Session, *, project_id: int, user: User, reason: str = "") -> Project:
    """Bring an archived project back as it was."""
    with unit_of_work(session):
        project = check_project_access(session, project_id=project_id, user=user, write=True)
        if project.archived_at is None:
            raise Conflict.translatable(N_("Project %(name)s is not archived."), name=repr(project.name))
        project.archived_at = None
        session.add(ProjectArchiveChange(project_id=project.id, action="restore", reason=(reason or "").strip()[:500],
                                         user_id=user.id))
    return project


def list_archive_changes(session: Session, *, project_id: int) -> list[ProjectArchiveChange]:
    """The project's archive and restore history, newest first."""
    stmt = (select(ProjectArchiveChange).where(ProjectArchiveChange.project_id == project_id)
            .order_by(ProjectArchiveChange.id.desc()))
    return list(session.scalars(stmt))
