"""The data, experiments and models sections of the project page, the upload form and the profile page."""

from __future__ import annotations

import html
import json
import re

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.datasets.factories import churn_sample_tsv, create_project, upload_ok, wait_job


def login(client: TestClient) -> None:
    response = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD}, follow_redirects=False)
    assert response.status_code == 303


def charts(page: str) -> list[dict]:
    return [json.loads(html.unescape(spec)) for spec in re.findall(r"data-chart='([^']*)'", page)]


def test_sections_upload_form_profile_page_and_run_form(client: TestClient) -> None:
    pid = create_project(client)
    login(client)
    empty = client.get(f"/projects/{pid}/_section/datasets")
    assert empty.status_code == 200 and "No datasets yet" in empty.text and 'type="file"' in empty.text
    assert "<html" not in empty.text
    assert "No experiments yet" in client.get(f"/projects/{pid}/_section/runs").text
    assert "No models yet" in client.get(f"/projects/{pid}/_section/models").text

    bad = client.post(f"/projects/{pid}/datasets/upload", data={"name": "churn"},
                      files={"file": ("churn.csv", b"a,b\n1,2,3\n", "text/csv")}, follow_redirects=False)
    assert bad.status_code == 422 and "line 2: expected 2 fields" in bad.text

    done = client.post(f"/projects/{pid}/datasets/upload", data={"name": "churn"},
                       files={"file": ("churn.tsv", churn_sample_tsv(300), "text/tab-separated-values")},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/projects/{pid}")
    job = client.get(f"/api/v1/jobs?project_id={pid}").json()[0]
    assert wait_job(client, job["id"])["state"] == "succeeded"
    section = client.get(f"/projects/{pid}/_section/datasets").text
    assert "churn" in section and "v1" in section and "ready" in section
    version_id = client.get(f"/api/v1/projects/{pid}/datasets").json()[0]["id"]
    version_id = client.get(f"/api/v1/datasets/{version_id}").json()["versions"][0]["id"]

    page = client.get(f"/dataset-versions/{version_id}")
    assert page.status_code == 200 and "total day minutes" in page.text
    assert "No missing values in any column" in page.text
    specs = charts(page.text)
    assert len(specs) == 21 and all(s["type"] == "bar" for s in specs)  # a distribution chart per column
    gappy = upload_ok(client, pid, name="gappy", filename="g.csv", data=b"a,b\n1,x\n,y\n3,\n4,x\n")
    missing_chart = charts(client.get(f"/dataset-versions/{gappy['version']['id']}").text)[0]
    assert missing_chart["data"]["labels"] == ["a", "b"] and missing_chart["data"]["datasets"][0]["data"] == [25, 25]

    refused = client.post(f"/projects/{pid}/runs/start", data={"dataset_version_id": version_id, "target": "nope",
                                                               "task": "auto", "time_budget_s": 2},
                          follow_redirects=False)
    # Post/Redirect/Get: the build page's experiments section shows the reason once, with the inputs kept.
    assert refused.status_code == 303 and refused.headers["location"] == f"/projects/{pid}/build#section-runs"
    shown = client.get(f"/projects/{pid}/_section/runs").text
    assert "Target column &#39;nope&#39; is not in dataset" in shown and 'value="nope"' in shown
    assert "nope" not in client.get(f"/projects/{pid}/_section/runs").text
    started = client.post(f"/projects/{pid}/runs/start", data={"dataset_version_id": version_id, "target": "target",
                                                               "task": "binary", "time_budget_s": 2},
                          follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == f"/projects/{pid}/build#section-runs"
    run = client.get(f"/api/v1/projects/{pid}/runs").json()[0]
    assert wait_job(client, run["job_id"])["state"] == "succeeded"
    runs = client.get(f"/projects/{pid}/_section/runs").text
    assert "roc_auc" in runs and charts(runs) == []  # one run: the leaderboard table, not a one-bar chart
    models = client.get(f"/projects/{pid}/_section/models").text
    assert "churn-pilot-target" in models and "v1" in models
