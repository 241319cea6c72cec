"""REST routes of the usecases domain: the catalog, the screening questions, project screenings and the matrix."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import NotFound
from mlpilot.projects import service as projects_service
from mlpilot.projects.deps import ProjectAccess
from mlpilot.usecases import service
from mlpilot.usecases.catalog import MAX_QUERY, Difficulty, Industry, TaskName, UseCase
from mlpilot.usecases.schemas import (
    BuildGateChangeRead,
    BuildGateRead,
    BuildOverrideCreate,
    MatrixPointRead,
    QuestionRead,
    ScreeningCreate,
    ScreeningRead,
    UseCaseRead,
)
from mlpilot.usecases.screening import QUESTIONS
from mlpilot.web import access

router = APIRouter(tags=["usecases"])


@router.get("/usecases", response_model=list[UseCaseRead])
def list_usecases(
    user: CurrentUser,
    industry: Industry | None = Query(None, description="The industry of the use cases."),
    task: TaskName | None = Query(None, description="A built-in task (binary, multiclass, regression) or one that "
                                  "needs an outside engine (object-detection, document-extraction, semantic-search)."),
    difficulty: Difficulty | None = Query(None, description="easy, medium or hard."),
    q: str | None = Query(None, max_length=MAX_QUERY, description="Words to find (English or Korean, any case)."),
    limit: int = Query(200, ge=1, le=1000, description="At most this many use cases (X-Total-Count has all)."),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Response:
    found = service.list_usecases(industry=industry, task=task, difficulty=difficulty, query=q)
    body = b"[" + b",".join(_entry_json(u) for u in found[offset:offset + limit]) + b"]"
    return Response(body, media_type="application/json", headers={"X-Total-Count": str(len(found))})


# Each catalog entry's JSON, made once: the catalog is read-only, and serialising hundreds of entries per request
# would dominate the explorer's response time. Keyed by key and checked by identity, so a reloaded catalog is
# serialised afresh.
_ENTRY_JSON: dict[str, tuple[UseCase, bytes]] = {}


def _entry_json(usecase: UseCase) -> bytes:
    cached = _ENTRY_JSON.get(usecase.key)
    if cached is None or cached[0] is not usecase:
        cached = (usecase, UseCaseRead.model_validate(usecase).model_dump_json().encode())
        _ENTRY_JSON[usecase.key] = cached
    return cached[1]


@router.get("/usecases/screening-questions", response_model=list[QuestionRead])
def list_questions(user: CurrentUser) -> list[QuestionRead]:
    return [QuestionRead.model_validate(q) for q in QUESTIONS]


@router.get("/usecases/{key}", response_model=UseCaseRead)
def get_usecase(key: str, user: CurrentUser) -> UseCaseRead:
    return UseCaseRead.model_validate(service.get_usecase(key=key))


@router.post("/projects/{project_id}/screenings", response_model=ScreeningRead, status_code=201,
        dependencies=[access.Project.write])
def record_screening(project_id: int, body: ScreeningCreate, session: DbSession, runtime: RuntimeDep,
                     user: CurrentUser) -> ScreeningRead:
    screening = service.record_screening(
        session, store=runtime.store, project_id=project_id, user=user, answers=body.plain_answers(),
        usecase_key=body.usecase_key, dataset_version_id=body.dataset_version_id, target=body.target,
        time_column=body.time_column)
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


@router.get("/projects/{project_id}/screenings/matrix", response_model=list[MatrixPointRead])
def priority_matrix(project: ProjectAccess, session: DbSession) -> list[MatrixPointRead]:
    """The newest screening of each candidate use case of the project, placed by value and feasibility."""
    return [MatrixPointRead.model_validate(p) for p in service.priority_matrix(session, project_id=project.id)]


@router.post("/projects/{project_id}/build-override", status_code=204,
        dependencies=[access.Project.read, access.AdminOnly])
def override_build_block(project_id: int, body: BuildOverrideCreate, session: DbSession, user: CurrentUser) -> None:
    """Let a project screened no-go start training anyway (admins only; the reason is audited)."""
    service.override_build_block(session, project_id=project_id, user=user, reason=body.reason)


@router.get("/projects/{project_id}/build-gate", response_model=BuildGateRead)
def build_gate(project: ProjectAccess, session: DbSession) -> BuildGateRead:
    """Whether the project may build (train), and the audit trail of verdicts and overrides."""
    changes = projects_service.list_build_gate_changes(session, project_id=project.id)
    return BuildGateRead(screening_decision=project.screening_decision, build_override=project.build_override,
                         blocked=projects_service.build_blocked(project),
                         changes=[BuildGateChangeRead.model_validate(c) for c in changes])
