"""REST routes for jobs under /api/v1/jobs."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core import jobs
from mlpilot.core.deps import DbSession
from mlpilot.jobs.schemas import JobLog, JobRead
from mlpilot.projects import service as projects_service

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=list[JobRead])
def list_jobs(session: DbSession, user: CurrentUser, project_id: int | None = None, limit: int = 50) -> list[JobRead]:
    if project_id is not None:
        projects_service.check_project_access(session, project_id=project_id, user=user)
    elif user.role != "admin":
        own = [j for j in jobs.list_jobs(session, limit=limit) if j.created_by_id == user.id]
        return [JobRead.model_validate(j) for j in own]
    return [JobRead.model_validate(j) for j in jobs.list_jobs(session, project_id=project_id, limit=limit)]


@router.get("/{job_id}", response_model=JobRead)
def get_job(job_id: int, session: DbSession, user: CurrentUser) -> JobRead:
    job = jobs.get_job(session, job_id=job_id)
    if job.project_id is not None:
        projects_service.check_project_access(session, project_id=job.project_id, user=user)
    return JobRead.model_validate(job)


@router.get("/{job_id}/log", response_model=JobLog)
def get_job_log(job_id: int, session: DbSession, user: CurrentUser) -> JobLog:
    job = jobs.get_job(session, job_id=job_id)
    if job.project_id is not None:
        projects_service.check_project_access(session, project_id=job.project_id, user=user)
    return JobLog(id=job.id, state=job.state, log=job.log)
