"""Detectors over data preparation, on real recipe runs and real training-data pipelines reading a SQL source."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.orm import Session

from mlpilot.core import jobs
from mlpilot.core.db import session_scope, utcnow
from mlpilot.core.runtime import Runtime
from mlpilot.feeder import service as feeder_service
from mlpilot.recipes import service as recipes_service
from mlpilot.risks import service, sync
from mlpilot.risks.models import RiskStatus
from tests.datasets.factories import make_version
from tests.feeder.factories import (
    SourceDatabase,
    admin_id,
    create_pipeline,
    create_project,
    create_sql_connection,
    run_and_wait,
)


def open_keys(session: Session, project_id: int, source: str) -> list[str]:
    return sorted(r.evidence_key or "" for r in service.list_risks(session, project_id=project_id, source=source)
                  if r.status != RiskStatus.closed)


def apply_recipe(runtime: Runtime, recipe_version_id: int, dataset_version_id: int) -> str:
    with session_scope(runtime.sessions) as session:
        job = recipes_service.run_recipe(session, runtime=runtime, recipe_version_id=recipe_version_id,
                                         dataset_version_id=dataset_version_id, user_id=admin_id(session))
        job_id = job.id
    return jobs.wait_for_job(runtime, job_id, timeout=60).state


def test_a_failing_recipe_raises_a_risk_until_a_later_run_succeeds(risk_runtime: Runtime) -> None:
    runtime = risk_runtime
    with session_scope(runtime.sessions) as session:
        project_id = create_project(session, "Recipe risks")
        frame = pl.DataFrame({"age": ["31", "x", "45"], "name": [" Kim ", "Lee", "Park"]})
        version_id = make_version(session, runtime, project_id=project_id, user_id=admin_id(session), frame=frame)
        recipe = recipes_service.create_recipe(session, project_id=project_id, name="clean ages", user_id=None,
                                               steps=[{"op": "cast", "column": "age", "to": "int",
                                                       "on_error": "fail"}])
        first_version = recipe.versions[0].id
    assert apply_recipe(runtime, first_version, version_id) == "failed"
    with session_scope(runtime.sessions) as session:
        result = sync.sync_project(session, store=runtime.store, project_id=project_id)
        assert open_keys(session, project_id, "recipe_failing") == [f"recipe_failing:recipe:{recipe.id}"]
        risk = service.get_risk(session, risk_id=result.raised[0])
        assert risk.evidence_url == f"/recipes/{recipe.id}" and "clean ages" in risk.title and risk.mitigation_ko
        fixed = recipes_service.add_recipe_version(session, recipe_id=recipe.id, user_id=None, steps=[
            {"op": "cast", "column": "age", "to": "int", "on_error": "null"}]).id
    assert apply_recipe(runtime, fixed, version_id) == "succeeded"
    with session_scope(runtime.sessions) as session:
        cleared = sync.sync_project(session, store=runtime.store, project_id=project_id)
        assert cleared.closed == [risk.id] and open_keys(session, project_id, "recipe_failing") == []


def test_a_failing_pipeline_and_a_late_delivery(risk_runtime: Runtime, source: SourceDatabase) -> None:
    runtime = risk_runtime
    source.add_rows(20)
    with session_scope(runtime.sessions) as session:
        project_id = create_project(session, "Feeder risks")
        connection_id = create_sql_connection(session, runtime, project_id=project_id, url=source.url)
        pipeline = create_pipeline(session, project_id=project_id, connection_id=connection_id,
                                   schedule="0 * * * *")
        pipeline_id = pipeline.id
        # Before its first slot nothing is late or failing.
        assert sync.sync_project(session, store=runtime.store, project_id=project_id).raised == []
    source.execute("ALTER TABLE orders RENAME TO orders_old")
    assert run_and_wait(runtime, pipeline_id).status == "failed"
    later = utcnow() + dt.timedelta(hours=10)
    with session_scope(runtime.sessions) as session:
        result = sync.sync_project(session, store=runtime.store, project_id=project_id, now=later)
        assert open_keys(session, project_id, "feeder_failing") == [f"feeder_failing:pipeline:{pipeline_id}"]
        # Ten hours on, the hourly slot has not delivered within the six hours of grace.
        assert open_keys(session, project_id, "feeder_late") == [f"feeder_late:pipeline:{pipeline_id}:late"]
        late = next(service.get_risk(session, risk_id=i) for i in result.raised
                    if service.get_risk(session, risk_id=i).source == "feeder_late")
        assert "is late" in late.title and "h have passed" in late.description and late.probability == 4
        before = late.description
        # An hour on, the evidence has only aged: the description follows, the history gains no row.
        changes = len(service.list_history(session, risk_id=late.id))
        sync.sync_project(session, store=runtime.store, project_id=project_id, now=later + dt.timedelta(hours=1))
        assert service.get_risk(session, risk_id=late.id).description != before
        assert len(service.list_history(session, risk_id=late.id)) == changes

    source.execute("ALTER TABLE orders_old RENAME TO orders")
    with session_scope(runtime.sessions) as session:
        # The scheduler (driven at the same hour) starts the slot's run, which now succeeds.
        [started] = feeder_service.run_due_pipelines(session, runtime=runtime, now=later)
        job_id = started.job_id
    assert jobs.wait_for_job(runtime, job_id, timeout=120).state == "succeeded"
    with session_scope(runtime.sessions) as session:
        cleared = sync.sync_project(session, store=runtime.store, project_id=project_id, now=later)
        assert len(cleared.closed) == 2 and open_keys(session, project_id, "feeder_failing") == []
        assert open_keys(session, project_id, "feeder_late") == []
