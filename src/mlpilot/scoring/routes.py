"""REST routes of batch scoring: create and start a run, follow its progress, resume it after a crash."""

from __future__ import annotations

from fastapi import APIRouter

from mlpilot.accounts.deps import MemberUser
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.scoring import service
from mlpilot.scoring.schemas import ScoringRunCreate, ScoringRunRead
from mlpilot.web import access

router = APIRouter(prefix="/scoring", tags=["scoring"])


def _read(run: object) -> ScoringRunRead:
    data = ScoringRunRead.model_validate(run)
    # Passwords are sealed (encrypted) in storage and never shown; say only that there is one.
    for side in ("source", "output"):
        spec = dict(getattr(data, side))
        if spec.pop("sealed", None) or spec.get("password"):
            spec["password"] = "***"
        setattr(data, side, spec)
    return data


@router.post("/runs", response_model=ScoringRunRead, status_code=201)
def create_run(body: ScoringRunCreate, session: DbSession, runtime: RuntimeDep, user: MemberUser) -> ScoringRunRead:
    """Record a scoring run and start it as a background job (progress: GET /scoring/runs/{id})."""
    service.check_target_access(session, user=user, model_version_id=body.model_version_id,
                                service_name=body.service, model_path=body.model_path)
    run = service.create_run(session, source=body.source, output=body.output, model_version_id=body.model_version_id,
                             model_path=body.model_path, keep=body.keep, chunk_rows=body.chunk_rows, name=body.name,
                             settings=runtime.settings, service_name=body.service, guard=runtime.allowlist)
    return _read(service.submit_run(session, runtime=runtime, run_id=run.id, user_id=user.id))


@router.get("/runs", response_model=list[ScoringRunRead])
def list_runs(session: DbSession, user: MemberUser) -> list[ScoringRunRead]:
    return [_read(r) for r in service.list_runs(session, user=user)]


@router.get("/runs/{run_id}", response_model=ScoringRunRead, dependencies=[access.ScoringRun.read])
def get_run(run_id: int, session: DbSession, user: MemberUser) -> ScoringRunRead:
    return _read(service.check_run_access(session, run_id=run_id, user=user))


@router.post("/runs/{run_id}/resume", response_model=ScoringRunRead, dependencies=[access.ScoringRun.write])
def resume_run(run_id: int, session: DbSession, runtime: RuntimeDep, user: MemberUser) -> ScoringRunRead:
    """Start the run again; chunks already written are skipped, so no prediction is written twice."""
    service.check_run_access(session, run_id=run_id, user=user, write=True)
    return _read(service.submit_run(session, runtime=runtime, run_id=run_id, user_id=user.id))
