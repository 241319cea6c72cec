"""Project access for routes: path parameter `project_id` checked against the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession
from mlpilot.projects import service
from mlpilot.projects.models import Project


def read_access(project_id: int, session: DbSession, user: CurrentUser) -> Project:
    """Return the project if the user may read it."""
    return service.check_project_access(session, project_id=project_id, user=user)


def write_access(project_id: int, session: DbSession, user: CurrentUser) -> Project:
    """Return the project if the user may change it."""
    return service.check_project_access(session, project_id=project_id, user=user, write=True)


ProjectAccess = Annotated[Project, Depends(read_access)]
ProjectWriteAccess = Annotated[Project, Depends(write_access)]
