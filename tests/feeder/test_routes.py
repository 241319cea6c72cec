"""The feeder's API and project-page section: create, list, read with history, run now, enable/disable."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import Role
from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.projects import service as projects_service
from tests.conftest import ADMIN_PASSWORD
from tests.feeder.factories import SourceDatabase, create_sql_connection

TRIGGER = {"kind": "min_new_rows", "rows": 1000, "train": {"target": "churn"}}


def _project_with_connection(client: TestClient, source: SourceDatabase) -> tuple[int, int]:
    response = client.post("/api/v1/projects", json={"name": f"Feeder {uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    project_id = response.json()["id"]
    runtime: Runtime = client.app.state.runtime
    with session_scope(runtime.sessions) as session:
        return project_id, create_sql_connection(session, runtime, project_id=project_id, url=source.url)


def test_pipeline_api_round_trip(feeder_client: TestClient, source: SourceDatabase) -> None:
    source.add_rows(25)
    project_id, connection_id = _project_with_connection(feeder_client, source)
    body = {"name": "orders feed", "connection_id": connection_id, "dataset_name": "orders",
            "schedule": "0 2 * * *", "timezone": "Asia/Seoul", "triggers": [TRIGGER]}
    created = feeder_client.post(f"/api/v1/projects/{project_id}/pipelines", json=body)
    assert created.status_code == 201, created.text
    pipeline = created.json()
    assert pipeline["schedule"] == "0 2 * * *" and pipeline["next_run_at"] and pipeline["runs"] == []
    assert pipeline["triggers"][0]["train"]["time_budget_s"] == 60.0

    started = feeder_client.post(f"/api/v1/pipelines/{pipeline['id']}/run")
    assert started.status_code == 202, started.text
    job = jobs.wait_for_job(feeder_client.app.state.runtime, started.json()["job_id"], timeout=120)
    assert job.state == "succeeded", job.error

    detail = feeder_client.get(f"/api/v1/pipelines/{pipeline['id']}").json()
    run = detail["runs"][0]
    assert (run["status"], run["rows_read"], run["rows_written"], run["reason"]) == ("succeeded", 25, 25, "manual")
    assert detail["last_run"]["id"] == run["id"] and detail["watermark"] == "25"
    assert detail["rows_since_training"] == 25
    run_detail = feeder_client.get(f"/api/v1/pipeline-runs/{run['id']}").json()
    assert "read 25 new rows" in run_detail["log"]
    version = feeder_client.get(f"/api/v1/dataset-versions/{run['dataset_version_id']}").json()
    assert version["row_count"] == 25

    listed = feeder_client.get(f"/api/v1/projects/{project_id}/pipelines").json()
    assert [p["name"] for p in listed] == ["orders feed"] and listed[0]["last_run"]["status"] == "succeeded"

    disabled = feeder_client.patch(f"/api/v1/pipelines/{pipeline['id']}", json={"enabled": False})
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    assert disabled.json()["next_run_at"] is None
    moved = feeder_client.patch(f"/api/v1/pipelines/{pipeline['id']}", json={"enabled": True,
                                                                            "schedule": "*/10 * * * *"})
    assert moved.json()["schedule"] == "*/10 * * * *" and moved.json()["next_run_at"]


def test_bad_requests_are_refused_with_the_field_named(feeder_client: TestClient, source: SourceDatabase) -> None:
    project_id, connection_id = _project_with_connection(feeder_client, source)
    url = f"/api/v1/projects/{project_id}/pipelines"
    base = {"name": "feed", "connection_id": connection_id, "dataset_name": "orders"}
    for change, words in [({"schedule": "nightly"}, "not a cron expression"),
                          ({"connection_id": 424242}, "connection 424242 does not exist"),
                          ({"triggers": [{"kind": "min_new_rows", "rows": 5}]}, "triggers[0].train")]:
        response = feeder_client.post(url, json={**base, **change})
        assert response.status_code == 422, response.text
        assert words in response.json()["detail"]
    assert feeder_client.get(url).json() == []
    created = feeder_client.post(url, json=base).json()
    assert feeder_client.post(url, json=base).status_code == 409
    bad_patch = feeder_client.patch(f"/api/v1/pipelines/{created['id']}", json={"schedule": "0 0 30 2 *"})
    assert bad_patch.status_code == 422 and "never fires" in bad_patch.json()["detail"]
    assert feeder_client.get(f"/api/v1/pipelines/{created['id']}").json()["schedule"] is None
    assert feeder_client.get("/api/v1/pipelines/987654").status_code == 404


def test_viewers_read_but_cannot_run(feeder_client: TestClient, source: SourceDatabase) -> None:
    project_id, connection_id = _project_with_connection(feeder_client, source)
    created = feeder_client.post(f"/api/v1/projects/{project_id}/pipelines",
                                 json={"name": "feed", "connection_id": connection_id, "dataset_name": "d"}).json()
    runtime: Runtime = feeder_client.app.state.runtime
    with session_scope(runtime.sessions) as session:
        viewer = accounts_service.create_user(session, username=f"v{uuid.uuid4().hex[:8]}", password="password-123",
                                              role=Role.viewer)
        admin = accounts_service.find_user_by_username(session, username="admin")
        projects_service.add_member(session, project_id=project_id, user=admin, username=viewer.username)
        _, secret = accounts_service.create_token(session, user_id=viewer.id, name="t")
    headers = {"Authorization": f"Bearer {secret}"}
    assert feeder_client.get(f"/api/v1/pipelines/{created['id']}", headers=headers).status_code == 200
    assert feeder_client.post(f"/api/v1/pipelines/{created['id']}/run", headers=headers).status_code == 403
    assert feeder_client.patch(f"/api/v1/pipelines/{created['id']}", json={"enabled": False},
                               headers=headers).status_code == 403


def test_project_section_lists_pipelines_and_creates_from_the_form(feeder_client: TestClient,
                                                                   source: SourceDatabase) -> None:
    source.add_rows(5)
    project_id, connection_id = _project_with_connection(feeder_client, source)
    login = feeder_client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD},
                               follow_redirects=False)
    assert login.status_code == 303
    page = feeder_client.get(f"/projects/{project_id}/data").text
    assert 'id="section-pipelines"' in page and f"/projects/{project_id}/_section/pipelines" in page
    empty = feeder_client.get(f"/projects/{project_id}/_section/pipelines")
    assert empty.status_code == 200 and "No pipelines yet" in empty.text and "legacy orders (sql)" in empty.text

    refused = feeder_client.post(f"/projects/{project_id}/pipelines/create",
                                 data={"name": "web feed", "connection_id": str(connection_id),
                                       "dataset_name": "orders", "schedule": "61 * * * *"}, follow_redirects=False)
    assert refused.status_code == 422 and "minute 0-59" in refused.text

    made = feeder_client.post(f"/projects/{project_id}/pipelines/create",
                              data={"name": "web feed", "connection_id": str(connection_id), "dataset_name": "orders",
                                    "schedule": "0 2 * * *", "timezone": "UTC", "min_new_rows": "100",
                                    "target": "churn", "time_budget_s": "30"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    pipeline = feeder_client.get(f"/api/v1/projects/{project_id}/pipelines").json()[0]
    assert pipeline["triggers"][0]["rows"] == 100 and pipeline["triggers"][0]["train"]["target"] == "churn"

    ran = feeder_client.post(f"/pipelines/{pipeline['id']}/run-now", follow_redirects=False)
    assert ran.status_code == 303
    run_id = feeder_client.get(f"/api/v1/pipelines/{pipeline['id']}").json()["runs"][0]["id"]
    job_id = feeder_client.get(f"/api/v1/pipeline-runs/{run_id}").json()["job_id"]
    jobs.wait_for_job(feeder_client.app.state.runtime, job_id, timeout=120)

    section = feeder_client.get(f"/projects/{project_id}/_section/pipelines").text
    assert "web feed" in section and "0 2 * * *" in section and "Run history" in section
    assert "succeeded" in section and f"/pipeline-runs/{run_id}/_log" in section
    log = feeder_client.get(f"/pipeline-runs/{run_id}/_log")
    assert log.status_code == 200 and "read 5 new rows" in log.text

    toggled = feeder_client.post(f"/pipelines/{pipeline['id']}/toggle", follow_redirects=False)
    assert toggled.status_code == 303
    assert "disabled" in feeder_client.get(f"/projects/{project_id}/_section/pipelines").text
    feeder_client.cookies.clear()
