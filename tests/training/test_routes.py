"""Runs over the real app: churn end to end, synthetic regression/multiclass, and every rejected request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from fastapi.testclient import TestClient

from mlpilot.registry.flavors import load_model
from tests.datasets.factories import (
    churn_frame,
    churn_sample_tsv,
    create_project,
    csv_bytes,
    synthetic_frame,
    upload_ok,
    wait_job,
)


def start(client: TestClient, pid: int, **body: object):  # noqa: ANN201 - a response
    return client.post(f"/api/v1/projects/{pid}/runs", json={"time_budget_s": 3, **body})


def test_churn_binary_run_registers_a_loadable_model(client: TestClient) -> None:
    pid = create_project(client)
    version = upload_ok(client, pid, name="churn", filename="churn.tsv", data=churn_sample_tsv(600))["version"]
    response = start(client, pid, dataset_version_id=version["id"], target="target", task="binary",
                     positive_class="0")
    assert response.status_code == 202, response.text
    assert response.json()["run"]["positive_class"] == "0"
    run_id, job_id = response.json()["run"]["id"], response.json()["job_id"]
    assert response.json()["run"]["status"] == "queued"
    job = wait_job(client, job_id)
    assert job["state"] == "succeeded", job["error"]

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["status"] == "succeeded" and run["primary_metric"] == "roc_auc"
    assert run["metrics"]["roc_auc"] > 0.7 and {"log_loss", "accuracy", "f1"} <= set(run["metrics"])
    assert run["duration_s"] > 0 and run["artifact_key"]

    versions = client.get(f"/api/v1/projects/{pid}/model-versions").json()
    assert len(versions) == 1 and versions[0]["run_id"] == run_id and versions[0]["version"] == 1
    assert versions[0]["name"] == "churn-pilot-target" and versions[0]["input_count"] == 20
    detail = client.get(f"/api/v1/model-versions/{versions[0]['id']}").json()
    assert detail["signature"]["task"] == "binary" and detail["signature"]["classes"] == ["0", "1"]

    runtime = client.app.state.runtime
    from mlpilot.registry import service as registry_service

    with runtime.sessions() as session:
        model_version = registry_service.get_model_version(session, model_version_id=detail["id"])
        path = registry_service.resolve_model_path(store=runtime.store, model_version=model_version)
    prediction = load_model(Path(path)).predict(churn_frame().head(25).drop("target"))
    assert prediction.probabilities.shape == (25, 2)
    assert np.allclose(prediction.probabilities.sum(axis=1), 1.0)

    # Registering again makes version 2 of the same name; the leaderboard ranks the run.
    again = client.post(f"/api/v1/runs/{run_id}/register", json={})
    assert again.status_code == 201 and again.json()["version"] == 2
    board = client.get(f"/api/v1/projects/{pid}/leaderboard").json()
    assert [(e["run_id"], e["rank"], e["metric_name"]) for e in board] == [(run_id, 1, "roc_auc")]
    assert board[0]["dataset"] == "churn v1"


def test_regression_and_multiclass_rank_direction_aware(client: TestClient) -> None:
    pid = create_project(client, "Synthetic")
    reg = upload_ok(client, pid, name="reg", filename="reg.csv", data=csv_bytes(synthetic_frame("regression")))
    multi = upload_ok(client, pid, name="multi", filename="multi.csv", data=csv_bytes(synthetic_frame("multiclass")))
    jobs = {}
    for key, version, params in (("reg_a", reg, {}), ("reg_b", reg, {"num_leaves": 2, "learning_rate": 0.01,
                                                                     "num_boost_round": 5}),
                                 ("multi", multi, {})):
        response = start(client, pid, dataset_version_id=version["version"]["id"], target="y", task="auto",
                         params=params, engine="lightgbm")
        assert response.status_code == 202, response.text
        jobs[key] = response.json()
    for started in jobs.values():
        job = wait_job(client, started["job_id"])
        assert job["state"] == "succeeded", job["error"]
    assert jobs["reg_a"]["run"]["task"] == "regression" and jobs["multi"]["run"]["task"] == "multiclass"
    board = client.get(f"/api/v1/projects/{pid}/leaderboard?task=regression").json()
    assert [e["run_id"] for e in board] == [jobs["reg_a"]["run"]["id"], jobs["reg_b"]["run"]["id"]]
    assert board[0]["metric_name"] == "rmse" and board[0]["metric_value"] < board[1]["metric_value"]
    assert {"rmse", "mae", "r2"} <= set(board[0]["metrics"])
    multi_run = client.get(f"/api/v1/runs/{jobs['multi']['run']['id']}").json()
    assert multi_run["primary_metric"] == "log_loss" and {"accuracy", "f1_macro"} <= set(multi_run["metrics"])


def test_bad_run_requests_are_rejected_and_record_nothing(client: TestClient) -> None:
    pid = create_project(client)
    other = create_project(client, "Other")
    frame = pl.DataFrame({"x": list(range(40)), "one": ["only"] * 40, "word": [f"w{i % 2}" for i in range(40)],
                          "pair": [i % 2 for i in range(40)], "many": [f"c{i}" for i in range(40)]})
    frame = pl.concat([frame] * 3)
    version = upload_ok(client, pid, name="t", filename="t.csv", data=csv_bytes(frame))["version"]
    foreign = upload_ok(client, other, name="f", filename="f.csv", data=csv_bytes(frame))["version"]
    cases = [
        ({"target": "one"}, 422, "target 'one' has a single class 'only'"),
        ({"target": "nope"}, 422, "Target column 'nope' is not in dataset 't' v1"),
        ({"target": "word", "task": "regression"}, 422, "regression needs a numeric target"),
        ({"target": "pair", "task": "multiclass"}, 422, "needs at least 3 classes"),
        ({"target": "x", "task": "binary"}, 422, "exactly 2 classes"),
        ({"target": "pair", "time_budget_s": 0}, 422, "time_budget_s must be more than 0"),
        ({"target": "pair", "time_budget_s": 7200}, 422, "at most 3600"),
        ({"target": "pair", "engine": "nonesuch"}, 404, "No engine named 'nonesuch'"),
        ({"target": "pair", "positive_class": "7"}, 422,
         "positive_class '7' is not a value of target 'pair'; its values are: 0, 1"),
        ({"target": "x", "task": "regression", "positive_class": "1"}, 422,
         "positive_class is only for classification"),
        ({"target": "pair", "dataset_version_id": foreign["id"]}, 422, "belongs to another project"),
        ({"target": "pair", "dataset_version_id": 9999}, 404, "Dataset version 9999 does not exist"),
    ]
    for body, status, message in cases:
        response = start(client, pid, **{"dataset_version_id": version["id"], **body})
        assert response.status_code == status, (body, response.text)
        assert message in response.json()["detail"], (body, response.json()["detail"])
    many = pl.DataFrame({"x": list(range(300)), "label": [f"c{i}" for i in range(300)]})
    many_version = upload_ok(client, pid, name="many", filename="m.csv", data=csv_bytes(many))["version"]
    too_many = start(client, pid, dataset_version_id=many_version["id"], target="label", task="multiclass")
    assert too_many.status_code == 422 and "300 classes" in too_many.json()["detail"]
    assert client.get(f"/api/v1/projects/{pid}/runs").json() == []
    assert [j["kind"] for j in client.get(f"/api/v1/jobs?project_id={pid}").json()] == ["datasets.profile"] * 2


def test_failed_training_leaves_failed_run_and_nothing_stored(client: TestClient) -> None:
    pid = create_project(client)
    # Five rows pass the request checks but are too few to train on: the job fails with a readable error.
    small = pl.DataFrame({"x": [1, 2, 3, 4, 5], "y": ["a", "b", "a", "b", "a"]})
    version = upload_ok(client, pid, name="small", filename="s.csv", data=csv_bytes(small))["version"]
    started = start(client, pid, dataset_version_id=version["id"], target="y").json()
    job = wait_job(client, started["job_id"])
    assert job["state"] == "failed" and "at least 10 rows" in job["error"]
    run = client.get(f"/api/v1/runs/{started['run']['id']}").json()
    assert run["status"] == "failed" and "at least 10 rows" in run["error"] and run["artifact_key"] is None
    assert client.get(f"/api/v1/projects/{pid}/model-versions").json() == []
    assert not (Path(client.app.state.runtime.store.root) / "runs").exists()
    refused = client.post(f"/api/v1/runs/{run['id']}/register", json={})
    assert refused.status_code == 422 and "only a succeeded run" in refused.json()["detail"]
