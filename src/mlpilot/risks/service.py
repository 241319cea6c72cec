"""Use cases of the risks domain: the risk register with its history, issues and change requests, the plan figures
the detectors check, and the `risks.scan` job that raises and clears risks from the project's evidence."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core import jobs
from mlpilot.core.db import session_scope, unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.jobs import Job, JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.projects import service as projects_service
from mlpilot.risks import history
from mlpilot.risks.findings import DETECTORS
from mlpilot.risks.models import (
    MANUAL,
    Decision,
    IssueKind,
    IssueStatus,
    ProjectIssue,
    Risk,
    RiskChange,
    RiskPlan,
    RiskStatus,
)
from mlpilot.risks.schemas import IssueUpdate, RiskPlanUpdate, RiskUpdate
from mlpilot.risks.sync import ScanResult, sync_project

SCAN_JOB = "risks.scan"
MAX_LISTED = 1000


def _check_owner(session: Session, *, project_id: int, owner_id: int | None) -> None:
    if owner_id is not None and not projects_service.is_member(session, project_id=project_id, user_id=owner_id):
        raise InvalidInput(f"owner_id {owner_id} is not a member of project {project_id}; "
                           "add the user to the project first or choose a member.")


def _check_level(name: str, value: int) -> int:
    if not 1 <= int(value) <= 5:
        raise InvalidInput(f"{name} must be between 1 and 5; got {value}.")
    return int(value)


def _check_status(status: str) -> RiskStatus:
    try:
        return RiskStatus(status)
    except ValueError:
        raise InvalidInput(f"Risk status {status!r} is unknown; expected one of: "
                           f"{', '.join(s.value for s in RiskStatus)}.") from None


def detector_names() -> list[str]:
    """The detectors a risk's `source` may name besides "manual"."""
    return sorted(DETECTORS)


def member_names(session: Session, *, project_id: int) -> dict[int, str]:
    """The usernames of the project's members by user id (risk and issue owners are members)."""
    return {user.id: user.username for _member, user in projects_service.list_members(session, project_id=project_id)}


def list_risks(session: Session, *, project_id: int, status: str | None = None,
               source: str | None = None) -> list[Risk]:
    """The project's risks, highest score first; filtered by status and by source ("manual", "auto" or a name)."""
    stmt = select(Risk).where(Risk.project_id == project_id)
    if status:
        stmt = stmt.where(Risk.status == _check_status(status))
    if source == "auto":
        stmt = stmt.where(Risk.source != MANUAL)
    elif source:
        stmt = stmt.where(Risk.source == source)
    return list(session.scalars(stmt.order_by(Risk.score.desc(), Risk.id).limit(MAX_LISTED)))


def get_risk(session: Session, *, risk_id: int, project_id: int | None = None) -> Risk:
    """Risk `risk_id` (of `project_id` when given)."""
    risk = session.get(Risk, risk_id)
    if risk is None or (project_id is not None and risk.project_id != project_id):
        where = f" in project {project_id}" if project_id is not None else ""
        raise NotFound(f"Risk {risk_id} does not exist{where}.")
    return risk


def create_risk(session: Session, *, project_id: int, user: User, title: str, probability: int, impact: int,
                description: str = "", owner_id: int | None = None, mitigation: str = "",
                status: str = RiskStatus.open, due_date: dt.date | None = None) -> Risk:
    """Add a risk by hand (source "manual")."""
    if not title or not title.strip():
        raise InvalidInput("title: a risk needs a title.")
    probability, impact = _check_level("probability", probability), _check_level("impact", impact)
    state = _check_status(status)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        _check_owner(session, project_id=project_id, owner_id=owner_id)
        risk = Risk(project_id=project_id, title=title.strip(), description=description, probability=probability,
                    impact=impact, score=probability * impact, owner_id=owner_id, mitigation=mitigation,
                    status=state, due_date=due_date, source=MANUAL, created_by_id=user.id,
                    closed_reason="manual" if state == RiskStatus.closed else "",
                    closed_at=utcnow() if state == RiskStatus.closed else None)
        session.add(risk)
        session.flush()
        history.record(session, risk, "created", "", risk.title, user_id=user.id)
    return risk


def update_risk(session: Session, *, project_id: int, risk_id: int, user: User, changes: RiskUpdate) -> Risk:
    """Change the fields set in `changes`, one history row per field that changed."""
    values: dict[str, object] = changes.model_dump(exclude_unset=True)
    if "title" in values:
        if not str(values["title"] or "").strip():
            raise InvalidInput("title: a risk needs a title.")
        values["title"] = str(values["title"]).strip()
    for name in ("probability", "impact", "status"):
        if name in values and values[name] is None:
            raise InvalidInput(f"{name} cannot be empty.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        risk = get_risk(session, risk_id=risk_id, project_id=project_id)
        if "owner_id" in values:
            _check_owner(session, project_id=project_id, owner_id=changes.owner_id)
        history.apply(session, risk, values, user_id=user.id)
    return risk


def close_risk(session: Session, *, project_id: int, risk_id: int, user: User) -> Risk:
    """Close a risk by hand (a detector will not reopen it)."""
    return update_risk(session, project_id=project_id, risk_id=risk_id, user=user,
                       changes=RiskUpdate(status=RiskStatus.closed))


def list_history(session: Session, *, risk_id: int) -> list[RiskChange]:
    """Every change of a risk, oldest first."""
    get_risk(session, risk_id=risk_id)
    return list(session.scalars(select(RiskChange).where(RiskChange.risk_id == risk_id)
                                .order_by(RiskChange.id)))


def get_issue(session: Session, *, issue_id: int, project_id: int | None = None) -> ProjectIssue:
    """Issue or change request `issue_id` (of `project_id` when given)."""
    issue = session.get(ProjectIssue, issue_id)
    if issue is None or (project_id is not None and issue.project_id != project_id):
        where = f" in project {project_id}" if project_id is not None else ""
        raise NotFound(f"Issue {issue_id} does not exist{where}.")
    return issue


def list_issues(session: Session, *, project_id: int, kind: str | None = None) -> list[ProjectIssue]:
    """The project's issues and change requests, newest first."""
    stmt = select(ProjectIssue).where(ProjectIssue.project_id == project_id)
    if kind:
        stmt = stmt.where(ProjectIssue.kind == kind)
    return list(session.scalars(stmt.order_by(ProjectIssue.id.desc()).limit(MAX_LISTED)))


def create_issue(session: Session, *, project_id: int, user: User, title: str, kind: str = IssueKind.issue,
                 description: str = "", owner_id: int | None = None, risk_id: int | None = None) -> ProjectIssue:
    """Log an issue or a change request (which waits for a decision)."""
    if not title or not title.strip():
        raise InvalidInput("title: an issue needs a title.")
    if kind not in tuple(IssueKind):
        raise InvalidInput(f"kind must be 'issue' or 'change_request'; got {kind!r}.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        _check_owner(session, project_id=project_id, owner_id=owner_id)
        if risk_id is not None:
            get_risk(session, risk_id=risk_id, project_id=project_id)
        issue = ProjectIssue(project_id=project_id, kind=kind, title=title.strip(), description=description,
                             owner_id=owner_id, risk_id=risk_id, created_by_id=user.id)
        session.add(issue)
        session.flush()
    return issue


def update_issue(session: Session, *, project_id: int, issue_id: int, user: User,
                 changes: IssueUpdate) -> ProjectIssue:
    """Change an issue's title, description, status or owner."""
    values = changes.model_dump(exclude_unset=True)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        issue = get_issue(session, issue_id=issue_id, project_id=project_id)
        if "owner_id" in values:
            _check_owner(session, project_id=project_id, owner_id=values["owner_id"])
        for name in ("title", "status"):
            if name in values and not values[name]:
                raise InvalidInput(f"{name} cannot be empty.")
        for name, value in values.items():
            setattr(issue, name, value.strip() if name == "title" else value)
    return issue


def decide_issue(session: Session, *, project_id: int, issue_id: int, user: User, decision: str,
                 note: str = "") -> ProjectIssue:
    """Approve or reject a change request (or an issue's proposed fix): who decided and when are kept."""
    if decision not in (Decision.approved, Decision.rejected):
        raise InvalidInput(f"decision must be 'approved' or 'rejected'; got {decision!r}.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        issue = get_issue(session, issue_id=issue_id, project_id=project_id)
        if issue.decision != Decision.pending:
            raise InvalidInput(f"Issue {issue_id} was already {issue.decision}; log a new change request to "
                               "revisit it.")
        issue.decision, issue.decision_note = decision, note
        issue.decided_by_id, issue.decided_at = user.id, utcnow()
        if issue.status == IssueStatus.open:
            issue.status = IssueStatus.resolved if decision == Decision.rejected else IssueStatus.in_progress
    return issue


def get_plan(session: Session, *, project_id: int) -> RiskPlan:
    """The project's plan figures (defaults until someone sets them)."""
    projects_service.get_project(session, project_id=project_id)
    plan = session.get(RiskPlan, project_id)
    if plan is None:
        plan = RiskPlan(project_id=project_id, stale_runs=5, delivery_grace_hours=6, alert_lookback_hours=24)
    return plan


def update_plan(session: Session, *, project_id: int, user: User, changes: RiskPlanUpdate) -> RiskPlan:
    """Set the figures the detectors hold the evidence against; fields not sent keep their value."""
    values = changes.model_dump(exclude_unset=True)
    for name in ("stale_runs", "delivery_grace_hours", "alert_lookback_hours"):
        if name in values and values[name] is None:
            raise InvalidInput(f"{name} cannot be empty.")
    if bool(values.get("target_metric")) != (values.get("target_value") is not None) and (
            "target_metric" in values or "target_value" in values):
        raise InvalidInput("target_metric and target_value go together: give both, or clear both.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        plan = get_plan(session, project_id=project_id)
        for name, value in values.items():
            setattr(plan, name, value.strip() or None if isinstance(value, str) else value)
        session.add(plan)
    return plan


def request_scan(session: Session, *, runtime: Runtime, project_id: int, user: User | None) -> Job:
    """Queue a `risks.scan` job for the project (one at a time: an active one is returned instead)."""
    with unit_of_work(session):
        if user is not None:
            projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        else:
            projects_service.get_project(session, project_id=project_id)
        active = session.scalar(select(Job).where(Job.project_id == project_id, Job.kind == SCAN_JOB,
                                                  Job.state.in_(jobs.ACTIVE)).limit(1))
        if active is not None:
            return active
        return jobs.create_job(session, runtime=runtime, kind=SCAN_JOB, params={"project_id": project_id},
                               user_id=user.id if user else None, project_id=project_id,
                               message="risk scan queued")


@job_handler(SCAN_JOB)
def _run_scan_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.1, "reading the evidence", force=True)
    with session_scope(ctx.runtime.sessions) as session:
        result: ScanResult = sync_project(session, store=ctx.runtime.store, project_id=int(params["project_id"]),
                                          progress=ctx.progress)
    for name, error in result.failed.items():
        ctx.log(f"detector {name} failed: {error}")
    return {"raised": result.raised, "updated": result.updated, "reopened": result.reopened,
            "closed": result.closed, "failed": sorted(result.failed)}


def open_risks_of(session: Session, *, project_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """(score, title) of every not-closed risk of the given projects, highest score first (for the portfolio)."""
    found: dict[int, list[tuple[int, str]]] = {}
    if not project_ids:
        return found
    rows = session.execute(select(Risk.project_id, Risk.score, Risk.title)
                           .where(Risk.project_id.in_(project_ids), Risk.status != RiskStatus.closed)
                           .order_by(Risk.score.desc(), Risk.id))
    for pid, score, title in rows:
        found.setdefault(pid, []).append((score, title))
    return found


def projects_with_risks(session: Session, *, project_ids: list[int]) -> set[int]:
    """The projects among `project_ids` whose register holds any risk, closed ones included."""
    if not project_ids:
        return set()
    return set(session.scalars(select(Risk.project_id).where(Risk.project_id.in_(project_ids)).distinct()))


def plans_of(session: Session, *, project_ids: list[int]) -> dict[int, RiskPlan]:
    """The saved risk plans (targets and objectives) of the given projects that have one."""
    if not project_ids:
        return {}
    return {p.project_id: p for p in session.scalars(select(RiskPlan).where(RiskPlan.project_id.in_(project_ids)))}
