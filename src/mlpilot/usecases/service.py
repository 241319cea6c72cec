"""Use cases of the usecases domain: browse the catalog and record a project's feasibility screenings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import unit_of_work
from mlpilot.core.errors import NotFound
from mlpilot.projects import service as projects_service
from mlpilot.usecases import catalog
from mlpilot.usecases.catalog import UseCase
from mlpilot.usecases.models import Screening
from mlpilot.usecases.screening import score_answers


def list_usecases(*, industry: str | None = None,
                  business_function: str | None = None, task_type: str | None = None) -> list[UseCase]:
    """Return catalog use cases matching the filters (the catalog ships with the package, no database)."""
    return catalog.filter_usecases(industry=industry, business_function=business_function, task_type=task_type)


def get_usecase(*, key: str) -> UseCase:
    """Return use case `key` from the catalog."""
    usecase = catalog.find_usecase(key)
    if usecase is None:
        keys = ", ".join(u.key for u in catalog.list_usecases())
        raise NotFound(f"Use case {key!r} is not in the catalog; known keys: {keys}.")
    return usecase


def find_usecase(*, key: str | None) -> UseCase | None:
    """Return use case `key`, or None when it is empty or unknown."""
    return catalog.find_usecase(key) if key else None


def record_screening(session: Session, *, project_id: int, user: User, answers: dict[str, Any]) -> Screening:
    """Score six answers and append them as the project's current screening."""
    result = score_answers(answers)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        screening = Screening(project_id=project_id, answers=result.answers, score=result.score,
                              max_score=result.max_score, decision=result.decision, user_id=user.id)
        session.add(screening)
        session.flush()
    return screening


def get_current_screening(session: Session, *, project_id: int) -> Screening | None:
    """Return the project's newest screening, or None when it has not been screened."""
    projects_service.get_project(session, project_id=project_id)
    stmt = select(Screening).where(Screening.project_id == project_id).order_by(Screening.id.desc()).limit(1)
    return session.scalar(stmt)


def list_screenings(session: Session, *, project_id: int) -> list[Screening]:
    """Return every screening of the project, newest first."""
    projects_service.get_project(session, project_id=project_id)
    stmt = select(Screening).where(Screening.project_id == project_id).order_by(Screening.id.desc())
    return list(session.scalars(stmt))
