"""Task 'forecast' through the API: held-out scoring, the stored model folder, charts on the run page, errors."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
from fastapi.testclient import TestClient

from tests.datasets.factories import create_project, csv_bytes, upload_ok, wait_job
from tests.projects.factories import login


def weekly_sales(stores: int = 3, weeks: int = 80) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    times = pl.datetime_range(datetime(2022, 1, 3), datetime(2030, 1, 1), "1w", eager=True).head(weeks)
    parts = []
    for i in range(stores):
        t = np.arange(weeks)
        y = 100 + 10 * i + 0.5 * t + 8 * np.sin(2 * np.pi * t / 13) + rng.normal(0, 2, weeks)
        parts.append(pl.DataFrame({"store": [f"st{i}"] * weeks, "week": times.dt.date(), "sales": y.round(2)}))
    return pl.concat(parts)


def test_forecast_run_scores_the_held_out_window_and_draws_each_series(client: TestClient) -> None:
    pid = create_project(client)
    version = upload_ok(client, pid, name="sales", filename="sales.csv", data=csv_bytes(weekly_sales()))["version"]
    response = client.post(f"/api/v1/projects/{pid}/runs", json={
        "dataset_version_id": version["id"], "target": "sales", "task": "forecast", "time_column": "week",
        "id_column": "store", "horizon": 8, "time_budget_s": 20})
    assert response.status_code == 202, response.text
    job = wait_job(client, response.json()["job_id"])
    assert job["state"] == "succeeded", job["error"]
    run = client.get(f"/api/v1/runs/{response.json()['run']['id']}").json()
    assert run["status"] == "succeeded" and run["task"] == "forecast" and run["engine"] == "forecast"
    assert run["primary_metric"] == "mase" and 0 < run["primary_metric_value"] < 2
    assert run["metrics"]["test_rows"] == 24 and run["metrics"]["series"] == 3 and run["flavor"] == "forecast"
    assert set(run["validation_metrics"]) == {"mase", "smape", "rmse"} and run["params"]["frequency"] == "weekly"
    login(client)
    page = client.get(f"/runs/{run['id']}")
    assert page.status_code == 200 and "Held-out forecasts per series" in page.text
    charts = [c for c in page.text.split("data-chart='")[1:] if "actual" in c.split("'")[0]]
    assert len(charts) == 3 and all("st" in c.split("'")[0] and "90 %" in c.split("'")[0] for c in charts)


def test_bad_forecast_requests_are_refused_and_bad_series_fail_the_run_clearly(client: TestClient) -> None:
    pid = create_project(client)
    frame = weekly_sales(stores=2, weeks=30)
    version = upload_ok(client, pid, name="sales", filename="sales.csv", data=csv_bytes(frame))["version"]
    base = {"dataset_version_id": version["id"], "target": "sales", "task": "forecast", "time_budget_s": 5}
    refused = client.post(f"/api/v1/projects/{pid}/runs", json={**base, "time_column": "week"})
    assert refused.status_code == 422 and "needs time_column and horizon" in refused.text
    refused = client.post(f"/api/v1/projects/{pid}/runs", json={**base, "time_column": "day", "horizon": 4})
    assert refused.status_code == 422 and "time_column 'day' is not in the dataset" in refused.text
    refused = client.post(f"/api/v1/projects/{pid}/runs", json={**base, "time_column": "week", "horizon": 0})
    assert refused.status_code == 422
    duplicated = pl.concat([frame, frame.head(3)])
    version = upload_ok(client, pid, name="dup", filename="dup.csv", data=csv_bytes(duplicated))["version"]
    started = client.post(f"/api/v1/projects/{pid}/runs", json={**base, "dataset_version_id": version["id"],
                                                                "time_column": "week", "id_column": "store",
                                                                "horizon": 4})
    assert started.status_code == 202, started.text
    job = wait_job(client, started.json()["job_id"])
    run = client.get(f"/api/v1/runs/{started.json()['run']['id']}").json()
    assert job["state"] == "failed" and run["status"] == "failed"
    assert "Duplicate timestamps in series 'st0'" in run["error"]
