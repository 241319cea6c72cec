"""REST routes of the usecases domain: the catalog, the screening questions and project screenings."""

from __future__ import annotations

from fastapi import APIRouter, Query

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import NotFound
from mlpilot.projects.deps import ProjectAccess
from mlpilot.usecases import service
from mlpilot.usecases.schemas import QuestionRead, ScreeningCreate, ScreeningRead, UseCaseRead
from mlpilot.usecases.screening import QUESTIONS
from mlpilot.web import access

router = APIRouter(tags=["usecases"])


@router.get("/usecases", response_model=list[UseCaseRead])
def list_usecases(
    user: CurrentUser,
    industry: str | None = Query(None, description="Part of an industry name, e.g. 'retail'."),
    function: str | None = Query(None, description="Business function, e.g. 'Customer service'."),
    task: str | None = Query(None, description="Task type: binary, multiclass or regression."),
) -> list[UseCaseRead]:
    found = service.list_usecases(industry=industry, business_function=function, task_type=task)
    return [UseCaseRead.model_validate(u) for u in found]


@router.get("/usecases/screening-questions", response_model=list[QuestionRead])
def list_questions(user: CurrentUser) -> list[QuestionRead]:
    return [QuestionRead.model_validate(q) for q in QUESTIONS]


@router.get("/usecases/{key}", response_model=UseCaseRead)
def get_usecase(key: str, user: CurrentUser) -> UseCaseRead:
    return UseCaseRead.model_validate(service.get_usecase(key=key))


@router.post("/projects/{project_id}/screenings", response_model=ScreeningRead, status_code=201,
        dependencies=[access.Project.write])
def record_screening(project_id: int, body: ScreeningCreate, session: DbSession, user: CurrentUser) -> ScreeningRead:
    screening = service.record_screening(session, project_id=project_id, user=user, answers=body.plain_answers())
    return ScreeningRead.model_validate(screening)


@router.get("/projects/{project_id}/screenings", response_model=list[ScreeningRead])
def list_screenings(project: ProjectAccess, session: DbSession) -> list[ScreeningRead]:
    return [ScreeningRead.model_validate(s) for s in service.list_screenings(session, project_id=project.id)]


@router.get("/projects/{project_id}/screenings/current", response_model=ScreeningRead)
def current_screening(project: ProjectAccess, session: DbSession) -> ScreeningRead:
    screening = service.get_current_screening(session, project_id=project.id)
    if screening is None:
        raise NotFound(f"Project {project.name!r} has not been screened yet; POST its six answers first.")
    return ScreeningRead.model_validate(screening)
