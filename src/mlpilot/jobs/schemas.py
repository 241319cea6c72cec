"""API shapes of jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from mlpilot.core.schemas import ReadModel


class JobRead(ReadModel):
    id: int
    kind: str
    state: str
    progress: float
    message: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    project_id: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class JobLog(BaseModel):
    id: int
    state: str
    log: str
