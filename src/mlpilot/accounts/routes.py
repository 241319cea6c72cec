"""REST routes of the accounts domain under /api/v1."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from mlpilot.accounts import service
from mlpilot.accounts.deps import AdminUser, CurrentUser
from mlpilot.accounts.schemas import TokenCreate, TokenCreated, TokenRead, UserCreate, UserRead, UserUpdate
from mlpilot.core.deps import DbSession

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
def update_user(user_id: int, body: UserUpdate, session: DbSession, user: CurrentUser) -> UserRead:
    if user.id != user_id or body.role is not None or body.active is not None:
        service.require_role(user, service.Role.admin)
    updated = service.update_user(session, user_id=user_id, **body.model_dump(exclude_unset=True))
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
