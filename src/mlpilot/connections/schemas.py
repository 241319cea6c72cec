"""API shapes of data connections; secrets are accepted on create and only ever returned masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel


class ConnectionCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(description="Connector kind: file or sql (or an installed plugin's).")
    settings: dict[str, Any] = Field(default_factory=dict,
                                     description="Connector settings, e.g. {'path': '/exports/*.csv'} or "
                                                 "{'url': 'postgresql+psycopg://user@host/db', 'table': 'orders'}.")
    secrets: dict[str, Any] = Field(default_factory=dict,
                                    description="Passwords, tokens, storage_options; stored encrypted, never returned.")


class ConnectionRead(ReadModel):
    id: int
    project_id: int
    name: str
    kind: str
    settings: dict[str, Any]
    secrets: dict[str, str] = Field(default_factory=dict, description="Stored secret names with masked values.")
    created_by_id: int | None
    created_at: dt.datetime


class ConnectionTestRead(BaseModel):
    ok: bool
    message: str


class ConnectionPreviewRead(BaseModel):
    connection_id: int
    columns: list[str]
    dtypes: list[str]
    rows: list[dict[str, Any]]


class IngestRequest(InputModel):
    dataset_name: str = Field(min_length=1, max_length=200)
    chunk_rows: int = Field(100_000, ge=1, le=10_000_000)


class IngestStarted(BaseModel):
    job_id: int
    connection_id: int
    dataset_name: str
