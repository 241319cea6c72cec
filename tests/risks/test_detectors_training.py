"""Detectors over training, on real runs fitted by the training job."""

from __future__ import annotations

from mlpilot.accounts.service import find_user_by_username
from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.risks import service, sync
from mlpilot.risks.models import RiskStatus
from mlpilot.risks.schemas import RiskPlanUpdate, RiskUpdate
from mlpilot.training import service as training_service
from tests.datasets.factories import make_version, synthetic_frame
from tests.feeder.factories import admin_id, create_project


def train(runtime: Runtime, project_id: int, version_id: int) -> None:
    with session_scope(runtime.sessions) as session:
        run = training_service.create_run(session, runtime=runtime, project_id=project_id,
                                          dataset_version_id=version_id, target="y", task="binary",
                                          engine="lightgbm", time_budget_s=5, user_id=admin_id(session),
                                          params={"n_estimators": 20})
        job_id = run.job_id
    job = jobs.wait_for_job(runtime, job_id, timeout=120)
    assert job.state == "succeeded", job.error


def test_best_run_below_target_and_no_improvement_over_the_last_runs(risk_runtime: Runtime) -> None:
    runtime = risk_runtime
    with session_scope(runtime.sessions) as session:
        project_id = create_project(session, "Model risks")
        owner = find_user_by_username(session, username="admin")
        version_id = make_version(session, runtime, project_id=project_id, user_id=owner.id,
                                  frame=synthetic_frame("binary"), name="train")
        service.update_plan(session, project_id=project_id, user=owner, changes=RiskPlanUpdate(
            target_metric="accuracy", target_value=0.9999, stale_runs=2))
    for _ in range(3):
        train(runtime, project_id, version_id)
    with session_scope(runtime.sessions) as session:
        best = training_service.project_summary(session, project_id=project_id).best
        assert best is not None and best.metrics["accuracy"] < 0.9999
        result = sync.sync_project(session, store=runtime.store, project_id=project_id)
        risks = {r.source: r for r in service.list_risks(session, project_id=project_id, source="auto")}
        assert set(risks) == {"below_target", "no_improvement"}, [r.title for r in risks.values()]
        below = risks["below_target"]
        assert below.evidence_key == "below_target:target:accuracy" and below.impact == 5
        assert f"/runs/{best.run_id}" == below.evidence_url and "0.9999" in below.title
        assert "last 2 runs" in risks["no_improvement"].title
        # A person lowers the probability; the next scan keeps their figure and does not duplicate the risk.
        service.update_risk(session, project_id=project_id, risk_id=below.id, user=owner,
                            changes=RiskUpdate(probability=2, owner_id=owner.id))
        again = sync.sync_project(session, store=runtime.store, project_id=project_id)
        assert again.raised == [] and service.get_risk(session, risk_id=below.id).probability == 2
        # The client agrees a reachable target: the evidence clears and the detector closes its risk.
        service.update_plan(session, project_id=project_id, user=owner,
                            changes=RiskPlanUpdate(target_metric="accuracy", target_value=0.5))
        cleared = sync.sync_project(session, store=runtime.store, project_id=project_id)
        assert cleared.closed == [below.id] and len(result.raised) == 2
        closed = service.get_risk(session, risk_id=below.id)
        assert closed.status == RiskStatus.closed and closed.owner_id == owner.id
        assert service.list_history(session, risk_id=below.id)[-1].source == "below_target"
