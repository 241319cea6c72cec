"""API shapes of the accounts domain."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from mlpilot.accounts.models import Role
from mlpilot.core.schemas import InputModel, ReadModel

MIN_PASSWORD_LENGTH = 8


class UserCreate(InputModel):
    username: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str | None = Field(None, min_length=MIN_PASSWORD_LENGTH, max_length=200)
    full_name: str = ""
    email: str | None = None
    role: Role = Role.member


class UserUpdate(InputModel):
    full_name: str | None = None
    email: str | None = None
    role: Role | None = None
    locale: str | None = Field(None, pattern=r"^(en|ko)$")
    active: bool | None = None
    password: str | None = Field(None, min_length=MIN_PASSWORD_LENGTH, max_length=200)
    current_password: str | None = Field(None, max_length=200, description="Needed to change one's own password")


class UserRead(ReadModel):
    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    locale: str | None
    active: bool
    created_at: dt.datetime


class TokenCreate(InputModel):
    name: str = Field(min_length=1, max_length=120)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class TokenRead(ReadModel):
    id: int
    name: str
    kind: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked: bool


class TokenCreated(TokenRead):
    token: str = Field(description="The secret; shown once, store it now.")


class LoginRequest(InputModel):
    username: str
    password: str
