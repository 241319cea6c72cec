"""REST routes of the team domain: member profiles, task needs, the gap map, skill gaps, staffing cost, the
build-in-house vs managed comparison, and the salary table (read by anyone signed in, written by admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession
from mlpilot.projects.deps import ProjectAccess
from mlpilot.team import service
from mlpilot.team.compute import BuildVsManaged, GapMap, SkillGap, StaffingCost
from mlpilot.team.schemas import (
    MAX_ID,
    NeedCreate,
    NeedRead,
    ProfileRead,
    ProfileSet,
    SalaryTable,
    SalaryTableIn,
    TeamOverview,
)
from mlpilot.web import access

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Years = Annotated[int, Query(ge=1, le=service.MAX_YEARS, description="Years compared, 1–3.")]
router = APIRouter(tags=["team"])
BASE = "/projects/{project_id}/team"


@router.get(BASE, response_model=TeamOverview)
def team_overview(project: ProjectAccess, session: DbSession, years: Years = 3) -> TeamOverview:
    return service.team_overview(session, project_id=project.id, years=years)


@router.get(f"{BASE}/members", response_model=list[ProfileRead])
def list_profiles(project: ProjectAccess, session: DbSession) -> list[ProfileRead]:
    return service.list_profiles(session, project_id=project.id)


@router.put(f"{BASE}/members/{{user_id}}", response_model=ProfileRead, dependencies=[access.Project.write])
def set_profile(project_id: int, user_id: Id, body: ProfileSet, session: DbSession, user: CurrentUser) -> ProfileRead:
    return service.set_profile(session, project_id=project_id, user=user, user_id=user_id, data=body)


@router.get(f"{BASE}/needs", response_model=list[NeedRead])
def list_needs(project: ProjectAccess, session: DbSession) -> list[NeedRead]:
    return [NeedRead.model_validate(n) for n in service.list_needs(session, project_id=project.id)]


@router.post(f"{BASE}/needs", response_model=NeedRead, status_code=201, dependencies=[access.Project.write])
def set_need(project_id: int, body: NeedCreate, session: DbSession, user: CurrentUser) -> NeedRead:
    return NeedRead.model_validate(service.set_need(session, project_id=project_id, user=user, data=body))


@router.post(f"{BASE}/needs/suggest", response_model=list[NeedRead], status_code=201,
             dependencies=[access.Project.write])
def suggest_needs(project_id: int, session: DbSession, user: CurrentUser) -> list[NeedRead]:
    return [NeedRead.model_validate(n) for n in service.suggest_needs(session, project_id=project_id, user=user)]


@router.delete(f"{BASE}/needs/{{need_id}}", status_code=204, dependencies=[access.Project.write])
def delete_need(project_id: int, need_id: Id, session: DbSession, user: CurrentUser) -> Response:
    service.delete_need(session, project_id=project_id, user=user, need_id=need_id)
    return Response(status_code=204)


@router.get(f"{BASE}/gaps", response_model=GapMap)
def gap_map(project: ProjectAccess, session: DbSession) -> GapMap:
    return service.gap_map(session, project_id=project.id)


@router.get(f"{BASE}/skills", response_model=list[SkillGap])
def skill_gaps(project: ProjectAccess, session: DbSession) -> list[SkillGap]:
    return service.skill_gaps(session, project_id=project.id)


@router.get(f"{BASE}/cost", response_model=StaffingCost)
def staffing_cost(project: ProjectAccess, session: DbSession) -> StaffingCost:
    return service.staffing_cost(session, project_id=project.id)


@router.get(f"{BASE}/compare", response_model=BuildVsManaged)
def compare(project: ProjectAccess, session: DbSession, years: Years = 3) -> BuildVsManaged:
    return service.compare_build_vs_managed(session, project_id=project.id, years=years)


@router.get("/team/salaries", response_model=SalaryTable, dependencies=[access.SignedIn])
def get_salaries(session: DbSession) -> SalaryTable:
    return service.salary_table(session)


@router.put("/team/salaries", response_model=SalaryTable, dependencies=[access.AdminOnly])
def put_salaries(body: SalaryTableIn, session: DbSession, user: CurrentUser) -> SalaryTable:
    return service.save_salary_table(session, user=user, data=body)


@router.delete("/team/salaries", response_model=SalaryTable, dependencies=[access.AdminOnly])
def reset_salaries(session: DbSession, user: CurrentUser) -> SalaryTable:
    return service.reset_salary_table(session, user=user)
