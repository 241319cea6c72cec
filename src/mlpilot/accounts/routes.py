"""REST routes of the accounts domain under /api/v1."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request

from mlpilot.accounts import service
from mlpilot.accounts.deps import AdminUser, CurrentUser, forget_initial_password, token_from_request
from mlpilot.accounts.models import Role
from mlpilot.accounts.schemas import TokenCreate, TokenCreated, TokenRead, UserCreate, UserRead, UserUpdate
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput

router = APIRouter(tags=["accounts"])


@router.get("/me", response_model=UserRead)
def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.get("/users", response_model=list[UserRead])
def list_users(session: DbSession, _: AdminUser) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in service.list_users(session)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, session: DbSession, _: AdminUser) -> UserRead:
    user = service.create_user(session, username=body.username, password=body.password, role=body.role,
                               full_name=body.full_name, email=body.email)
    return UserRead.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: Annotated[int, Path(ge=1, le=INT64_MAX)], body: UserUpdate, request: Request,
                session: DbSession, runtime: RuntimeDep, user: CurrentUser) -> UserRead:
    """Change a profile; one's own password needs the current one, and other sessions are signed out."""
    if user.id != user_id or body.role is not None or body.active is not None:
        service.require_role(user, Role.admin)
    changes = body.model_dump(exclude_unset=True, exclude={"current_password", "password"})
    if body.password is not None:
        if user.id == user_id:
            if body.current_password is None:
                raise InvalidInput("current_password: give your current password to change it.")
            service.change_password(session, user_id=user_id, current_password=body.current_password,
                                    new_password=body.password, keep_secret=token_from_request(request))
        else:  # an admin resetting someone's password signs them out everywhere
            service.update_user(session, user_id=user_id, password=body.password)
            service.revoke_sessions(session, user_id=user_id)
        if service.get_user(session, user_id=user_id).username == service.ADMIN_USERNAME:
            forget_initial_password(runtime.settings)
    updated = service.update_user(session, user_id=user_id, **changes)
    return UserRead.model_validate(updated)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(session: DbSession, user: CurrentUser) -> list[TokenRead]:
    return [TokenRead.model_validate(t) for t in service.list_tokens(session, user_id=user.id)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, session: DbSession, user: CurrentUser) -> TokenCreated:
    expires = dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, secret = service.create_token(session, user_id=user.id, name=body.name, expires_in=expires)
    return TokenCreated.model_validate({**TokenRead.model_validate(token).model_dump(), "token": secret})


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(token_id: int, session: DbSession, user: CurrentUser) -> TokenRead:
    return TokenRead.model_validate(service.revoke_token(session, user_id=user.id, token_id=token_id))
