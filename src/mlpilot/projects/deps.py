"""Project access for routes: path parameter `project_id` checked against the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession
from mlpilot.core.rules import declare_rule
from mlpilot.projects import service
from mlpilot.projects.models import Project

ProjectId = Annotated[int, Path(ge=1, le=INT64_MAX)]


def read_access(project_id: ProjectId, session: DbSession, user: CurrentUser) -> Project:
    """Return the project if the user may read it."""
    return service.check_project_access(session, project_id=project_id, user=user)


def write_access(project_id: ProjectId, session: DbSession, user: CurrentUser) -> Project:
    """Return the project if the user may change it."""
    return service.check_project_access(session, project_id=project_id, user=user, write=True)


# The rules the route-walking test reads (see mlpilot.web.access).
declare_rule(read_access, "project:read:project_id")
declare_rule(write_access, "project:write:project_id")


ProjectAccess = Annotated[Project, Depends(read_access)]
ProjectWriteAccess = Annotated[Project, Depends(write_access)]
