"""Pipelines end to end through services: incremental runs, schema changes, triggers, retries and scheduling."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from mlpilot.core import jobs
from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.errors import Conflict, InvalidInput
from mlpilot.core.jobs import LocalExecutor
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.feeder import service as feeder_service
from mlpilot.feeder.scheduler import PipelineScheduler
from mlpilot.recipes import service as recipes_service
from mlpilot.training import service as training_service
from tests.conftest import expire_job_leases
from tests.feeder.factories import (
    SourceDatabase,
    admin_id,
    create_pipeline,
    create_project,
    create_sql_connection,
    run_and_wait,
    wait_for_all_jobs,
)


def _setup(runtime: Runtime, source: SourceDatabase, **pipeline_kwargs: object) -> tuple[int, int]:
    with session_scope(runtime.sessions) as session:
        project_id = create_project(session)
        connection_id = create_sql_connection(session, runtime, project_id=project_id, url=source.url)
        pipeline = create_pipeline(session, project_id=project_id, connection_id=connection_id, **pipeline_kwargs)
        return project_id, pipeline.id


def test_runs_read_new_rows_only_and_append_versions_with_lineage(feeder_runtime: Runtime,
                                                                  source: SourceDatabase) -> None:
    source.add_rows(30)
    project_id, pipeline_id = _setup(feeder_runtime, source)

    first = run_and_wait(feeder_runtime, pipeline_id)
    assert first.status == "succeeded", first.error
    assert (first.rows_read, first.rows_written, first.attempts, first.watermark) == (30, 30, 1, "30")

    source.add_rows(20)
    second = run_and_wait(feeder_runtime, pipeline_id)
    assert second.status == "succeeded", second.error
    assert (second.rows_read, second.rows_written, second.watermark) == (20, 20, "50")

    third = run_and_wait(feeder_runtime, pipeline_id)
    assert (third.status, third.rows_read, third.dataset_version_id, third.message) == ("succeeded", 0, None,
                                                                                         "no new rows")
    with session_scope(feeder_runtime.sessions) as session:
        v1 = datasets_service.get_dataset_version(session, version_id=first.dataset_version_id)
        v2 = datasets_service.get_dataset_version(session, version_id=second.dataset_version_id)
        assert (v1.version, v1.row_count, v2.version, v2.row_count) == (1, 30, 2, 50)
        lineage = v2.lineage
        assert lineage["source"] == "connection:legacy orders" and lineage["connector"] == "sql"
        assert lineage["parents"] == [v1.id] and lineage["watermark"] == "50" and lineage["rows_in"] == 20
        assert lineage["connector_settings"]["table"] == "orders"
        frame = datasets_service.read_dataset_version_frame(session, store=feeder_runtime.store, version_id=v2.id)
        assert sorted(frame["id"].to_list()) == list(range(1, 51))
        assert set(frame["region"].unique()) == {"서울", "부산", "대구"}
        assert len(datasets_service.find_dataset(session, project_id=project_id, name="orders").versions) == 2


def test_replace_mode_writes_only_the_new_rows(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    source.add_rows(10)
    _, pipeline_id = _setup(feeder_runtime, source, mode="replace")
    run_and_wait(feeder_runtime, pipeline_id)
    source.add_rows(5)
    run = run_and_wait(feeder_runtime, pipeline_id)
    with session_scope(feeder_runtime.sessions) as session:
        assert datasets_service.get_dataset_version(session, version_id=run.dataset_version_id).row_count == 5


def test_a_changed_source_schema_stops_the_run_and_writes_nothing(feeder_runtime: Runtime,
                                                                  source: SourceDatabase) -> None:
    source.add_rows(12)
    project_id, pipeline_id = _setup(feeder_runtime, source)
    good = run_and_wait(feeder_runtime, pipeline_id)
    source.execute("ALTER TABLE orders ADD COLUMN channel TEXT")
    source.execute("ALTER TABLE orders DROP COLUMN region")
    source.add_rows(0)
    source.execute("INSERT INTO orders (id, amount, churn, channel) VALUES (13, 1.5, 'no', 'web')")

    failed = run_and_wait(feeder_runtime, pipeline_id)
    assert failed.status == "failed" and failed.dataset_version_id is None
    assert "schema changed" in failed.error and "added 'channel'" in failed.error
    assert "removed 'region'" in failed.error and "Nothing was written" in failed.error
    assert failed.rows_read == 1
    with session_scope(feeder_runtime.sessions) as session:
        dataset = datasets_service.find_dataset(session, project_id=project_id, name="orders")
        assert [v.id for v in dataset.versions] == [good.dataset_version_id]
        pipeline = feeder_service.get_pipeline(session, pipeline_id=pipeline_id)
        assert pipeline.watermark == "12"  # the rejected rows will be read again once the dataset is fixed
        job = jobs.get_job(session, job_id=failed.job_id)
        assert job.state == "failed" and "added 'channel'" in job.error


def test_enough_new_rows_start_training_once(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    trigger = {"kind": "min_new_rows", "rows": 40, "train": {"target": "churn", "time_budget_s": 1}}
    source.add_rows(30)
    project_id, pipeline_id = _setup(feeder_runtime, source, triggers=[trigger])
    first = run_and_wait(feeder_runtime, pipeline_id)
    assert first.training_run_id is None
    source.add_rows(20)
    second = run_and_wait(feeder_runtime, pipeline_id)
    assert second.status == "succeeded" and second.training_run_id is not None
    assert f"started training run {second.training_run_id}" in second.message
    with session_scope(feeder_runtime.sessions) as session:
        run = training_service.get_run(session, run_id=second.training_run_id)
        assert (run.dataset_version_id, run.target, run.project_id) == (second.dataset_version_id, "churn",
                                                                        project_id)
        assert feeder_service.get_pipeline(session, pipeline_id=pipeline_id).rows_since_training == 0
        training_job = run.job_id
    jobs.wait_for_job(feeder_runtime, training_job, timeout=120)
    source.add_rows(5)
    third = run_and_wait(feeder_runtime, pipeline_id)
    assert third.training_run_id is None  # 5 new rows since that training: below the threshold


def test_a_trigger_that_cannot_train_keeps_the_data_and_says_why(feeder_runtime: Runtime,
                                                                 source: SourceDatabase) -> None:
    trigger = {"kind": "min_new_rows", "rows": 1, "train": {"target": "no_such_column"}}
    source.add_rows(8)
    _, pipeline_id = _setup(feeder_runtime, source, triggers=[trigger])
    run = run_and_wait(feeder_runtime, pipeline_id)
    assert run.status == "succeeded" and run.dataset_version_id is not None and run.training_run_id is None
    assert "training not started" in run.message and "no_such_column" in run.message


def test_the_recipe_cleans_the_new_rows(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    source.add_rows(9)
    with session_scope(feeder_runtime.sessions) as session:
        project_id = create_project(session)
        connection_id = create_sql_connection(session, feeder_runtime, project_id=project_id, url=source.url)
        recipe = recipes_service.create_recipe(session, project_id=project_id, name="tidy",
                                               steps=[{"op": "drop", "columns": ["region"]}],
                                               user_id=admin_id(session))
        pipeline = create_pipeline(session, project_id=project_id, connection_id=connection_id,
                                   recipe_version_id=recipe.versions[0].id)
    run = run_and_wait(feeder_runtime, pipeline.id)
    assert run.status == "succeeded", run.error
    with session_scope(feeder_runtime.sessions) as session:
        version = datasets_service.get_dataset_version(session, version_id=run.dataset_version_id)
        assert [c["name"] for c in version.schema] == ["id", "amount", "churn"]
        assert version.lineage["recipe"] == {"id": recipe.versions[0].id, "name": "tidy", "version": 1}
    source.add_rows(3)
    assert run_and_wait(feeder_runtime, pipeline.id).rows_written == 3


def test_an_unreachable_database_is_retried_then_fails_clearly(feeder_runtime: Runtime) -> None:
    with session_scope(feeder_runtime.sessions) as session:
        project_id = create_project(session)
        # Nothing listens on port 9 of this machine: every connection attempt is refused.
        connection_id = create_sql_connection(session, feeder_runtime, project_id=project_id,
                                              url="postgresql+psycopg://reader@127.0.0.1:9/legacy")
        pipeline = create_pipeline(session, project_id=project_id, connection_id=connection_id)
    run = run_and_wait(feeder_runtime, pipeline.id)
    assert run.status == "failed" and run.attempts == 3
    assert "Cannot connect" in run.error and "127.0.0.1:9" in run.error
    with session_scope(feeder_runtime.sessions) as session:
        log = feeder_service.get_run_log(session, run_id=run.id)
        assert "attempt 1 of 3 failed" in log and "attempt 2 of 3 failed" in log
        assert datasets_service.find_dataset(session, project_id=project_id, name="orders") is None


def test_create_pipeline_rejects_bad_input_and_creates_nothing(feeder_runtime: Runtime,
                                                               source: SourceDatabase) -> None:
    with session_scope(feeder_runtime.sessions) as session:
        project_id = create_project(session)
        other_id = create_project(session, name="Other")
        connection_id = create_sql_connection(session, feeder_runtime, project_id=project_id, url=source.url)
        foreign_id = create_sql_connection(session, feeder_runtime, project_id=other_id, url=source.url)
        snapshot_id = create_sql_connection(session, feeder_runtime, project_id=project_id, url=source.url,
                                            name="snapshot", watermark_column=None)
        cases = [
            ({"schedule": "every night"}, "'schedule'"),
            ({"schedule": "0 25 * * *"}, "hour 0-23"),
            ({"timezone": "Seoul"}, "Unknown time zone 'Seoul'"),
            ({"connection_id": 999_999}, "connection 999999 does not exist"),
            ({"connection_id": foreign_id}, "belongs to another project"),
            ({"recipe_version_id": 999_999}, "recipe version 999999 does not exist"),
            ({"triggers": [{"kind": "min_new_rows", "rows": -1, "train": {"target": "y"}}]}, "triggers[0].rows"),
            ({"mode": "merge"}, "'mode'"),
            ({"dataset_name": " "}, "dataset_name"),
            ({"connection_id": snapshot_id}, "'snapshot' has no watermark_column"),
        ]
        for change, words in cases:
            values = {"connection_id": connection_id, **change}
            with pytest.raises(InvalidInput) as err:
                create_pipeline(session, project_id=project_id, **values)
            assert words in err.value.detail, (change, err.value.detail)
        assert feeder_service.list_pipelines(session, project_id=project_id) == []
        create_pipeline(session, project_id=project_id, connection_id=snapshot_id, name="snapshots", mode="replace")
        create_pipeline(session, project_id=project_id, connection_id=connection_id)
        with pytest.raises(Conflict, match="already has a pipeline named 'nightly orders'"):
            create_pipeline(session, project_id=project_id, connection_id=connection_id)


def test_schedule_changes_move_the_next_run(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    _, pipeline_id = _setup(feeder_runtime, source, schedule="0 2 * * *", timezone="Asia/Seoul")
    with session_scope(feeder_runtime.sessions) as session:
        pipeline = feeder_service.get_pipeline(session, pipeline_id=pipeline_id)
        assert pipeline.next_run_at is not None and pipeline.next_run_at.astimezone(dt.UTC).hour == 17
        pipeline = feeder_service.update_pipeline(session, pipeline_id=pipeline_id, enabled=False)
        assert pipeline.next_run_at is None
        pipeline = feeder_service.update_pipeline(session, pipeline_id=pipeline_id, enabled=True,
                                                  schedule="30 * * * *", timezone="UTC")
        assert pipeline.next_run_at.minute == 30
        with pytest.raises(InvalidInput):
            feeder_service.update_pipeline(session, pipeline_id=pipeline_id, schedule="0 2 * 13 *")
        session.rollback()
        assert feeder_service.get_pipeline(session, pipeline_id=pipeline_id).schedule == "30 * * * *"
        pipeline = feeder_service.update_pipeline(session, pipeline_id=pipeline_id, schedule="")
        assert pipeline.schedule is None and pipeline.next_run_at is None


def test_the_scheduler_starts_each_due_slot_once(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    source.add_rows(4)
    _, pipeline_id = _setup(feeder_runtime, source, schedule="*/5 * * * *")
    with session_scope(feeder_runtime.sessions) as session:
        slot = feeder_service.get_pipeline(session, pipeline_id=pipeline_id).next_run_at
    later = slot + dt.timedelta(seconds=1)
    # Two scheduler processes (or a restart replaying its tick) see the same due slot.
    with session_scope(feeder_runtime.sessions) as one, session_scope(feeder_runtime.sessions) as two:
        started = feeder_service.run_due_pipelines(one, runtime=feeder_runtime, now=later)
        again = feeder_service.run_due_pipelines(two, runtime=feeder_runtime, now=later)
    mine = [r for r in started if r.pipeline_id == pipeline_id]
    assert len(mine) == 1 and [r for r in again if r.pipeline_id == pipeline_id] == []
    assert mine[0].reason == "schedule" and mine[0].scheduled_for == slot
    started = mine
    jobs.wait_for_job(feeder_runtime, started[0].job_id, timeout=120)
    with session_scope(feeder_runtime.sessions) as session:
        pipeline = feeder_service.get_pipeline(session, pipeline_id=pipeline_id)
        assert pipeline.last_scheduled_at == slot and pipeline.next_run_at == slot + dt.timedelta(minutes=5)
        assert feeder_service.get_pipeline_run(session, run_id=started[0].id).status == "succeeded"


def test_disabled_pipelines_are_not_scheduled(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    _, pipeline_id = _setup(feeder_runtime, source, schedule="*/5 * * * *", enabled=False)
    with session_scope(feeder_runtime.sessions) as session:
        far = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        started = feeder_service.run_due_pipelines(session, runtime=feeder_runtime, now=far)
        assert [r for r in started if r.pipeline_id == pipeline_id] == []
        assert feeder_service.list_pipeline_runs(session, pipeline_id=pipeline_id) == []
    for run in started:
        jobs.wait_for_job(feeder_runtime, run.job_id, timeout=120)


def test_the_scheduler_thread_starts_due_runs(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    source.add_rows(3)
    _, pipeline_id = _setup(feeder_runtime, source, schedule="0 3 * * *")
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    scheduler = PipelineScheduler(feeder_runtime, interval_s=0.05, clock=lambda: tomorrow)
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        runs: list = []
        while not runs and time.monotonic() < deadline:
            time.sleep(0.05)
            with session_scope(feeder_runtime.sessions) as session:
                runs = feeder_service.list_pipeline_runs(session, pipeline_id=pipeline_id)
    finally:
        scheduler.stop()
        wait_for_all_jobs(feeder_runtime)  # it also started the other tests' scheduled pipelines
    assert len(runs) == 1 and runs[0].reason == "schedule"


def test_run_now_refuses_while_a_run_is_active(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    _, pipeline_id = _setup(feeder_runtime, source)
    with session_scope(feeder_runtime.sessions) as session:
        # Both starts in one transaction: the first run is recorded but not yet submitted, so it is surely active.
        with pytest.raises(Conflict, match="is already running \\(run \\d+, queued\\)"), unit_of_work(session):
            feeder_service.start_pipeline_run(session, runtime=feeder_runtime, pipeline_id=pipeline_id, user_id=None)
            feeder_service.start_pipeline_run(session, runtime=feeder_runtime, pipeline_id=pipeline_id, user_id=None)
        assert feeder_service.list_pipeline_runs(session, pipeline_id=pipeline_id) == []


_release = threading.Event()


@jobs.job_handler("tests.feeder.busy")
def _busy_job(ctx: jobs.JobContext, params: dict) -> None:
    _release.wait(60)


def test_a_restart_fails_runs_its_predecessor_left_queued(feeder_runtime: Runtime, source: SourceDatabase) -> None:
    _, pipeline_id = _setup(feeder_runtime, source)
    wait_for_all_jobs(feeder_runtime)
    # A process whose only worker is busy: the pipeline run waits in its queue when the process goes away.
    dying = Runtime.from_settings(feeder_runtime.settings, engine=feeder_runtime.engine)
    dying.executor = LocalExecutor(dying, workers=1)
    _release.clear()
    try:
        with session_scope(dying.sessions) as session:
            jobs.create_job(session, runtime=dying, kind="tests.feeder.busy", params={})
            session.commit()
            run = feeder_service.start_pipeline_run(session, runtime=dying, pipeline_id=pipeline_id, user_id=None)
            run_id = run.id
        # The next process starts: jobs first, then the runs that belonged to them.
        expire_job_leases(feeder_runtime)
        with session_scope(feeder_runtime.sessions) as session:
            assert jobs.reclaim_expired_jobs(session) == 2  # the feeder's hook fails the pipeline run with it
            failed = feeder_service.get_pipeline_run(session, run_id=run_id)
            assert failed.status == "failed" and "restart" in failed.error and failed.finished_at is not None
    finally:
        _release.set()
        dying.executor.shutdown(wait=True)
    with session_scope(feeder_runtime.sessions) as session:
        # The old worker, freed, does not run the failed job after all (it claims only queued jobs).
        assert feeder_service.get_pipeline_run(session, run_id=run_id).status == "failed"
        pipeline_job = feeder_service.get_pipeline_run(session, run_id=run_id).job_id
        assert jobs.get_job(session, job_id=pipeline_job).started_at is None
