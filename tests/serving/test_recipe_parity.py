"""No training–serving skew: a model trained on a recipe's output answers served and batch-scored rows as the
recipe would have prepared them — online (real HTTP to the data plane), batch and training features agree."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient

from mlpilot.recipes.rowwise import freeze_row_steps
from mlpilot.recipes.steps import apply_steps
from mlpilot.registry import service as registry_service
from mlpilot.registry.flavors import load_model
from tests.datasets.factories import create_project, csv_bytes, upload_ok, wait_job
from tests.serving.factories import deploy

ROWS = 240
RECIPE = [
    {"op": "impute", "columns": ["x"], "strategy": "mean"},
    {"op": "map_values", "column": "plan", "mapping": {"a": "basic", "b": "basic", "c": "pro"}},
    {"op": "normalize_text", "columns": ["memo"], "case": "upper"},
    {"op": "mask_pii", "columns": ["memo"]},
    {"op": "filter", "expr": "x > -1000"},
    {"op": "drop", "columns": ["memo"], "disabled": True},
]


def source_frame() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, ROWS)
    plan = rng.choice(["a", "b", "c"], ROWS)
    y = ((x + (plan == "c") * 1.5 + rng.normal(0, 0.5, ROWS)) > 0.7).astype(int)
    xs = [None if i % 9 == 0 else float(v) for i, v in enumerate(x)]  # blanks the recipe fills
    memo = [f"call 010-1234-{i:04d}" if i % 2 else "none" for i in range(ROWS)]
    return pl.DataFrame({"x": xs, "plan": plan.tolist(), "memo": memo, "y": [str(v) for v in y]})


def test_freeze_rule_keeps_row_wise_steps_and_refuses_table_flags_the_model_reads() -> None:
    frame = source_frame()
    frozen = freeze_row_steps(RECIPE, frame, model_inputs=["x", "plan", "memo"])
    mean = frame.get_column("x").mean()
    assert frozen.steps[0] == {"op": "impute", "columns": ["x"], "strategy": "constant", "value": mean}
    assert [s["op"] for s in frozen.steps] == ["impute", "map_values", "normalize_text", "mask_pii"]
    assert frozen.skipped == [{"step": 5, "op": "filter", "reason": "removes_rows"}]
    bounds = freeze_row_steps([{"op": "outliers", "columns": ["x"], "method": "iqr"}], frame, model_inputs=["x"])
    assert bounds.steps[0]["method"] == "bounds" and {"lower", "upper"} <= set(bounds.steps[0])
    flag = [{"op": "duplicates", "subset": ["plan"], "action": "flag", "flag_column": "dup"}]
    with pytest.raises(Exception, match="flags duplicate rows in 'dup', a column the model reads"):
        freeze_row_steps(flag, frame, model_inputs=["x", "dup"])
    assert freeze_row_steps(flag, frame, model_inputs=["x"]).skipped == [
        {"step": 1, "op": "duplicates", "reason": "flag_not_input"}]


def test_training_serving_and_batch_scoring_agree(client: TestClient, live_server_url: str, tmp_path: Path) -> None:
    pid = create_project(client)
    frame = source_frame()
    source = upload_ok(client, pid, name="raw", filename="raw.csv", data=csv_bytes(frame))["version"]["id"]
    recipe = client.post(f"/api/v1/projects/{pid}/recipes", json={"name": "prep", "steps": RECIPE}).json()
    applied = client.post(f"/api/v1/recipes/{recipe['id']}/apply", json={"dataset_version_id": source})
    assert applied.status_code == 202, applied.text
    job = wait_job(client, applied.json()["job_id"])
    assert job["state"] == "succeeded", job
    cleaned = job["result"]["dataset_version_id"]
    started = client.post(f"/api/v1/projects/{pid}/runs", json={
        "time_budget_s": 3, "dataset_version_id": cleaned, "target": "y", "task": "binary"})
    assert started.status_code == 202, started.text
    assert wait_job(client, started.json()["job_id"])["state"] == "succeeded"
    [version] = client.get(f"/api/v1/projects/{pid}/model-versions").json()
    detail = client.get(f"/api/v1/model-versions/{version['id']}").json()
    assert [s["op"] for s in detail["row_steps"]["steps"]] == ["impute", "map_values", "normalize_text", "mask_pii"]
    assert {c["name"]: c["nullable"] for c in detail["signature"]["inputs"]}["x"] is True

    # Training features: the recipe's output rows, predicted by the model alone.
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        model_version = registry_service.get_model_version(session, model_version_id=version["id"])
        path = registry_service.resolve_model_path(store=runtime.store, model_version=model_version)
    rows = frame.head(30).drop("y")
    features = apply_steps(frame, RECIPE)[0].collect().head(30).drop("y")
    expected = load_model(Path(path)).predict(features).probabilities[:, 1]

    # Online: real HTTP to the data plane with the raw rows, blanks included (no 400).
    deploy(client, project_id=pid, name="prep-svc", model_version_id=version["id"])
    records = rows.to_dicts()
    assert any(r["x"] is None for r in records)
    answer = httpx.post(f"{live_server_url}/api/v1/services/prep-svc/predict", json={"records": records},
                        headers=dict(client.headers), timeout=30)
    assert answer.status_code == 200, answer.text
    online = np.array([p["probabilities"]["1"] for p in answer.json()["predictions"]])
    tensors = [{"name": "x", "shape": [len(records)], "datatype": "FP64", "data": [r["x"] for r in records]},
               {"name": "plan", "shape": [len(records)], "datatype": "BYTES", "data": [r["plan"] for r in records]},
               {"name": "memo", "shape": [len(records)], "datatype": "BYTES", "data": [r["memo"] for r in records]}]
    oip = httpx.post(f"{live_server_url}/v2/models/prep-svc/infer", json={"inputs": tensors},
                     headers=dict(client.headers), timeout=30)
    assert oip.status_code == 200, oip.text

    # Batch scoring of the same raw rows.
    rows.write_csv(tmp_path / "raw.csv")
    made = client.post("/api/v1/scoring/runs", json={
        "model_version_id": version["id"], "source": {"kind": "file", "path": str(tmp_path / "raw.csv")},
        "output": {"kind": "file", "path": str(tmp_path / "scored.parquet")}})
    assert made.status_code == 201, made.text
    assert wait_job(client, made.json()["job_id"])["state"] == "succeeded"
    batch = pl.read_parquet(tmp_path / "scored.parquet").get_column("proba_1").to_numpy()

    assert np.allclose(online, expected, atol=1e-9) and np.allclose(batch, expected, atol=1e-9)

    # The model-version page lists the steps applied before the model and what was left out.
    from tests.datasets.test_views import login

    login(client)
    page = client.get(f"/model-versions/{version['id']}").text
    assert 'id="model-row-steps"' in page and "only removes rows" in page


def test_training_warns_when_serving_would_refuse_blanks_the_source_has(client: TestClient) -> None:
    from mlpilot.registry.signature import ColumnSpec, Signature
    from mlpilot.training.runs import blank_warnings

    pid = create_project(client)
    source = upload_ok(client, pid, name="raw", filename="raw.csv", data=csv_bytes(source_frame()))["version"]["id"]
    dropping = client.post(f"/api/v1/projects/{pid}/recipes", json={
        "name": "drop-blanks", "steps": [{"op": "filter", "expr": "not is_null(x)"}]}).json()
    filling = client.post(f"/api/v1/projects/{pid}/recipes", json={"name": "fill", "steps": RECIPE[:1]}).json()
    made = {}
    for recipe in (dropping, filling):
        applied = client.post(f"/api/v1/recipes/{recipe['id']}/apply", json={"dataset_version_id": source})
        job = wait_job(client, applied.json()["job_id"])
        made[recipe["name"]] = job["result"]["dataset_version_id"]
        wait_job(client, job["result"]["profile_job_id"])
    signature = Signature(inputs=(ColumnSpec("x", "float64", nullable=False), ColumnSpec("plan", "string", False)),
                          task="binary", target="y")
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        dropped = blank_warnings(session, dataset_version_id=made["drop-blanks"], signature=signature)
        filled = blank_warnings(session, dataset_version_id=made["fill"], signature=signature)
    assert dropped == [f"11.25 % of the values of 'x' are blank in dataset version {source}, but the served model "
                       "refuses blank values there (HTTP 400); fill them with an impute step of the recipe so the "
                       "model learns and serves them."]
    assert filled == []
