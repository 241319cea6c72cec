"""Task rules, metrics and the training/registry services below the HTTP layer."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.registry import service as registry_service
from mlpilot.registry.flavors import load_model
from mlpilot.training import service
from mlpilot.training.metrics import classification_metrics, higher_is_better, primary_metric
from mlpilot.training.tasks import resolve_task
from tests.conftest import expire_job_leases
from tests.datasets.factories import make_version, synthetic_frame
from tests.projects.factories import make_project, make_user


def test_auto_task_and_target_rules() -> None:
    assert resolve_task(pl.Series([0, 1, 1, None]), target="t", task="auto") == ("binary", ["0", "1"])
    assert resolve_task(pl.Series(["b", "a", "c"]), target="t", task="auto") == ("multiclass", ["a", "b", "c"])
    assert resolve_task(pl.Series([0.5, 1.25, 3.0]), target="t", task="auto") == ("regression", None)
    assert resolve_task(pl.Series(list(range(50))), target="t", task="auto")[0] == "regression"
    assert resolve_task(pl.Series([2, 10, 1]), target="t", task="multiclass")[1] == ["1", "2", "10"]
    with pytest.raises(InvalidInput, match="target 't' has a single class 'x'"):
        resolve_task(pl.Series(["x", "x", None]), target="t", task="auto")
    with pytest.raises(InvalidInput, match="has no values"):
        resolve_task(pl.Series([None, None], dtype=pl.Int64), target="t", task="binary")


def test_metric_directions_and_primary_fallback() -> None:
    assert higher_is_better("roc_auc") and not higher_is_better("log_loss") and not higher_is_better("rmse")
    assert not higher_is_better("ece")
    one_class = classification_metrics(np.array([1, 1]), np.array([[0.2, 0.8], [0.4, 0.6]]), task="binary")
    assert one_class["roc_auc"] is None
    assert primary_metric("binary", one_class) == ("log_loss", one_class["log_loss"])


def test_run_trains_registers_and_summarises(live_runtime: Runtime) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user, name="Säle Forecast")
        version_id = make_version(session, runtime, project_id=project.id, user_id=user.id,
                                  frame=synthetic_frame("regression"), name="sales")
        assert service.project_summary(session, project_id=project.id) == service.TrainingSummary([], None)
        run = service.create_run(session, runtime=runtime, project_id=project.id, dataset_version_id=version_id,
                                 target="y", task="auto", time_budget_s=2, user_id=user.id)
        assert run.task == "regression" and run.status == "queued"
    job = jobs.wait_for_job(runtime, run.job_id, timeout=60)
    assert job.state == "succeeded", job.error
    with session_scope(runtime.sessions) as session:
        summary = service.project_summary(session, project_id=project.id)
        best = summary.best
        assert best is not None and summary.leaderboard == [best] and best.rank == 1
        # Better than predicting the mean, not a quality bar: how far a 2-second AutoML budget gets on 192 rows
        # depends on the load of the machine (CI once saw R² 0.35); quality is the benchmark's job.
        assert best.metric_name == "rmse" and best.dataset == "sales v1" and best.metrics["r2"] > 0
        [model_version] = registry_service.list_model_versions(session, project_id=project.id)
        got = registry_service.get_model_version(session, model_version_id=model_version.id)
        assert (got.name, got.version, got.project_id) == ("säle-forecast-y", 1, project.id)
        assert got.flavor == ("automl" if service.default_engine() == "auto" else "lightgbm")
        assert got.signature["task"] == "regression" and got.metrics["rmse"] == best.metric_value
        model = load_model(registry_service.resolve_model_path(store=runtime.store, model_version=got))
        values = model.predict(synthetic_frame("regression").head(5)).values
        assert values.shape == (5,) and np.isfinite(values).all()
        tracked = service.get_run(session, run_id=best.run_id)
        assert tracked.metrics["test_rows"] == 48 and len(tracked.evaluation["residuals"]["points"]) == 48
        assert set(tracked.evaluation["permutation_importance"]) == {"x1", "x2", "colour"}
        assert isinstance(tracked.fold_metrics, list) and tracked.library_versions["numpy"]
        assert tracked.experiment_id is not None and "fitted in" in tracked.logs
        [experiment] = service.list_experiments(session, project_id=project.id)
        assert (experiment.name, experiment.runs, experiment.best_run_id) == ("Default", 1, tracked.id)
        assert service.get_or_create_experiment(session, project_id=project.id, name=" ").id == experiment.id
        renamed = service.register_run(session, run_id=best.run_id, user_id=user.id, name="sales-model")
        assert (renamed.name, renamed.version) == ("sales-model", 1)


class StoppedExecutor:
    """An executor whose process died: it accepts jobs and never runs them."""

    def submit(self, job_id: int) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        pass


def test_run_whose_job_died_reads_as_failed(live_runtime: Runtime) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        version_id = make_version(session, runtime, project_id=project.id, user_id=user.id,
                                  frame=synthetic_frame("binary"))
    runtime.executor.shutdown(wait=True)
    runtime.executor = StoppedExecutor()
    with session_scope(runtime.sessions) as session:
        run = service.create_run(session, runtime=runtime, project_id=project.id, dataset_version_id=version_id,
                                 target="y", time_budget_s=1, user_id=user.id)
    expire_job_leases(runtime)  # the process that queued it is gone and its lease ran out
    with session_scope(runtime.sessions) as session:
        assert jobs.reclaim_expired_jobs(session) == 1  # what any live process's heartbeat does next
        [listed] = service.list_runs(session, project_id=project.id)
        assert listed.id == run.id and listed.status == "failed" and "restart" in listed.error
