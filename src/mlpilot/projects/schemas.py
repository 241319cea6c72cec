"""API shapes of the projects domain."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from mlpilot.core.schemas import InputModel, ReadModel
from mlpilot.projects.models import Stage


class ProjectCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    client: str = Field("", max_length=200)
    description: str = ""
    usecase_key: str | None = Field(None, description="Key of a use case from the catalog (GET /api/v1/usecases).")


class ProjectUpdate(InputModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    client: str | None = Field(None, max_length=200)
    description: str | None = None
    usecase_key: str | None = None


class StageChange(InputModel):
    stage: Stage
    note: str = Field("", max_length=500)


class MemberAdd(InputModel):
    username: str
    responsibility: str = Field("", max_length=120)


class MemberRead(ReadModel):
    user_id: int
    username: str
    full_name: str
    responsibility: str


class StageEventRead(ReadModel):
    stage: Stage
    note: str
    at: dt.datetime


class ProjectRead(ReadModel):
    id: int
    name: str
    client: str
    description: str
    usecase_key: str | None
    stage: Stage
    screening_decision: str | None = Field(None, description="The newest screening's verdict: go or no-go.")
    build_override: bool = Field(False, description="An admin let a no-go project build anyway (audited).")
    archived_at: dt.datetime | None = Field(None, description="When the project was archived (None: active).")
    created_at: dt.datetime


class ProjectDetail(ProjectRead):
    members: list[MemberRead]
    stage_events: list[StageEventRead]


class ArchiveChange(InputModel):
    reason: str = Field("", max_length=500, description="Required to archive (3–500 characters); optional to restore.")
