"""API shapes of batch scoring."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlpilot.core.schemas import InputModel
from mlpilot.scoring.specs import ScoringOutput, ScoringSource


class ScoringRunCreate(InputModel):
    name: str = ""
    model_version_id: int | None = None
    model_path: str | None = Field(None, description="A model folder on the server (instead of a version id)")
    service: str | None = Field(None, description="A deployed service: its current primary backend scores the run, "
                                                  "so a backend swap needs no change here")
    source: ScoringSource = Field(description="Where the rows come from: a database table or query, or files")
    output: ScoringOutput = Field(description="Where the predictions go: a database table, or a CSV/Parquet file")
    keep: list[str] | None = Field(None, description="Source columns copied next to the predictions (default all)")
    chunk_rows: int = Field(50_000, ge=1, le=10_000_000)


class ScoringRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    model_version_id: int | None
    model_path: str | None
    service_name: str | None = None
    scored_by: str | None = None
    source: dict[str, Any]
    output: dict[str, Any]
    keep: list[str] | None
    chunk_rows: int
    state: str
    chunks_done: int
    rows_done: int
    attempts: int
    job_id: int | None
    error: str | None
    result: dict[str, Any] | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
