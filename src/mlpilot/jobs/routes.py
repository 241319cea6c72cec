"""REST routes for jobs under /api/v1/jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core import jobs
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession
from mlpilot.jobs.schemas import JobLog, JobRead
from mlpilot.projects import service as projects_service
from mlpilot.web import access

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=list[JobRead])
def list_jobs(session: DbSession, user: CurrentUser,
              project_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[JobRead]:
    """Newest jobs: of one project, or of every project the caller belongs to (admins: all, with project-less)."""
    if project_id is not None:
        projects_service.check_project_access(session, project_id=project_id, user=user)
        return [JobRead.model_validate(j) for j in jobs.list_jobs(session, project_id=project_id, limit=limit)]
    if user.role == "admin":
        return [JobRead.model_validate(j) for j in jobs.list_jobs(session, limit=limit)]
    project_ids = [p.id for p in projects_service.list_projects(session, user=user)]
    return [JobRead.model_validate(j) for j in jobs.list_jobs(session, project_ids=project_ids, limit=limit)]


@router.get("/{job_id}", response_model=JobRead, dependencies=[access.Job.read])
def get_job(job_id: int, session: DbSession, user: CurrentUser) -> JobRead:
    return JobRead.model_validate(jobs.get_job(session, job_id=job_id))


@router.get("/{job_id}/log", response_model=JobLog, dependencies=[access.Job.read])
def get_job_log(job_id: int, session: DbSession, user: CurrentUser) -> JobLog:
    job = jobs.get_job(session, job_id=job_id)
    return JobLog(id=job.id, state=job.state, log=job.log)
