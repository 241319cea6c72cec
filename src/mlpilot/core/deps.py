"""FastAPI dependencies shared by every domain: the runtime and a per-request database session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from mlpilot.core.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """Return the process runtime the app was created with."""
    return request.app.state.runtime


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session for one request; services commit, the request never does."""
    session = request.app.state.runtime.sessions()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

