"""REST routes of the risks domain: the register, a risk's history, issues and change requests, the plan figures
and the scan that raises risks from evidence."""

from __future__ import annotations

from fastapi import APIRouter, Query

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.projects.deps import ProjectAccess
from mlpilot.risks import service
from mlpilot.risks.findings import DETECTORS
from mlpilot.risks.models import Risk
from mlpilot.risks.schemas import (
    DetectorRead,
    IssueCreate,
    IssueDecision,
    IssueRead,
    IssueUpdate,
    RiskChangeRead,
    RiskCreate,
    RiskPlanRead,
    RiskPlanUpdate,
    RiskRead,
    RiskUpdate,
    ScanJob,
)
from mlpilot.web import access

router = APIRouter(prefix="/projects/{project_id}", tags=["risks"])


def _read(session: DbSession, risk: Risk, names: dict[int, str] | None = None) -> RiskRead:
    names = names if names is not None else service.member_names(session, project_id=risk.project_id)
    read = RiskRead.model_validate(risk)
    return read.model_copy(update={"owner": names.get(risk.owner_id or 0)})


@router.get("/risks", response_model=list[RiskRead])
def list_risks(project: ProjectAccess, session: DbSession, status: str | None = Query(None, max_length=20),
               source: str | None = Query(None, max_length=60, description="manual, auto or a detector's name.")
               ) -> list[RiskRead]:
    names = service.member_names(session, project_id=project.id)
    return [_read(session, r, names)
            for r in service.list_risks(session, project_id=project.id, status=status, source=source)]


@router.post("/risks", response_model=RiskRead, status_code=201, dependencies=[access.Project.write])
def create_risk(project_id: int, body: RiskCreate, session: DbSession, user: CurrentUser) -> RiskRead:
    risk = service.create_risk(session, project_id=project_id, user=user, **body.model_dump())
    return _read(session, risk)


@router.get("/risks/{risk_id}", response_model=RiskRead, dependencies=[access.Risk.read])
def get_risk(project: ProjectAccess, risk_id: int, session: DbSession) -> RiskRead:
    return _read(session, service.get_risk(session, risk_id=risk_id, project_id=project.id))


@router.patch("/risks/{risk_id}", response_model=RiskRead, dependencies=[access.Project.write, access.Risk.write])
def update_risk(project_id: int, risk_id: int, body: RiskUpdate, session: DbSession, user: CurrentUser) -> RiskRead:
    risk = service.update_risk(session, project_id=project_id, risk_id=risk_id, user=user, changes=body)
    return _read(session, risk)


@router.get("/risks/{risk_id}/history", response_model=list[RiskChangeRead], dependencies=[access.Risk.read])
def risk_history(project: ProjectAccess, risk_id: int, session: DbSession) -> list[RiskChangeRead]:
    service.get_risk(session, risk_id=risk_id, project_id=project.id)
    return [RiskChangeRead.model_validate(c) for c in service.list_history(session, risk_id=risk_id)]


@router.post("/risks/scan", response_model=ScanJob, status_code=202, dependencies=[access.Project.write])
def scan(project_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser) -> ScanJob:
    job = service.request_scan(session, runtime=runtime, project_id=project_id, user=user)
    return ScanJob(job_id=job.id, state=job.state)


@router.get("/risk-detectors", response_model=list[DetectorRead])
def list_detectors(project: ProjectAccess) -> list[DetectorRead]:
    return [DetectorRead(name=name, description=(fn.__doc__ or "").strip().splitlines()[0])
            for name, fn in sorted(DETECTORS.items())]


@router.get("/risk-plan", response_model=RiskPlanRead)
def get_plan(project: ProjectAccess, session: DbSession) -> RiskPlanRead:
    return RiskPlanRead.model_validate(service.get_plan(session, project_id=project.id))


@router.put("/risk-plan", response_model=RiskPlanRead, dependencies=[access.Project.write])
def update_plan(project_id: int, body: RiskPlanUpdate, session: DbSession, user: CurrentUser) -> RiskPlanRead:
    plan = service.update_plan(session, project_id=project_id, user=user, changes=body)
    return RiskPlanRead.model_validate(plan)


@router.get("/issues", response_model=list[IssueRead])
def list_issues(project: ProjectAccess, session: DbSession,
                kind: str | None = Query(None, max_length=20)) -> list[IssueRead]:
    return [IssueRead.model_validate(i) for i in service.list_issues(session, project_id=project.id, kind=kind)]


@router.post("/issues", response_model=IssueRead, status_code=201, dependencies=[access.Project.write])
def create_issue(project_id: int, body: IssueCreate, session: DbSession, user: CurrentUser) -> IssueRead:
    return IssueRead.model_validate(service.create_issue(session, project_id=project_id, user=user,
                                                         **body.model_dump()))


@router.patch("/issues/{issue_id}", response_model=IssueRead, dependencies=[access.Project.write, access.Issue.write])
def update_issue(project_id: int, issue_id: int, body: IssueUpdate, session: DbSession,
                 user: CurrentUser) -> IssueRead:
    return IssueRead.model_validate(service.update_issue(session, project_id=project_id, issue_id=issue_id,
                                                         user=user, changes=body))


@router.post("/issues/{issue_id}/decision", response_model=IssueRead,
             dependencies=[access.Project.write, access.Issue.write])
def decide_issue(project_id: int, issue_id: int, body: IssueDecision, session: DbSession,
                 user: CurrentUser) -> IssueRead:
    return IssueRead.model_validate(service.decide_issue(session, project_id=project_id, issue_id=issue_id,
                                                         user=user, decision=body.decision, note=body.note))
