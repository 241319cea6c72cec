"""The assembled app: OpenAPI, self-hosted API docs, and errors in the right shape for each audience."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD


def test_openapi_lists_every_domain_and_the_inference_protocol(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for path in ("/api/v1/projects", "/api/v1/projects/{project_id}/datasets", "/api/v1/projects/{project_id}/runs",
                 "/api/v1/projects/{project_id}/model-versions", "/api/v1/services", "/api/v1/usecases",
                 "/api/v1/projects/{project_id}/milestones", "/api/v1/projects/{project_id}/reports",
                 "/api/v1/jobs/{job_id}", "/v2/health/ready", "/v2/models/{name}/infer"):
        assert path in paths, path


def test_api_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui-5.35.0-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/static/vendor/swagger-ui-5.35.0-bundle.js").status_code == 200


def test_unknown_api_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "/api/v1/nothing-here" in response.json()["detail"]


def test_validation_errors_name_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json={"client": "x"})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "name"
    assert "name" in body["detail"]


def test_unknown_page_renders_an_html_error_page(client: TestClient) -> None:
    client.headers.pop("Authorization")
    client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    response = client.get("/projects/99999", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Project 99999 does not exist." in response.text
    assert "Traceback" not in response.text


def test_ids_and_numbers_beyond_64_bits_are_refused_not_server_errors(client: TestClient) -> None:
    """Every id reaching the database is range-checked once, for path, query and body alike, on every dialect."""
    huge = 2**70
    pid = client.post("/api/v1/projects", json={"name": "bounds"}).json()["id"]
    for path in (f"/api/v1/projects/{huge}", f"/api/v1/connections/{huge}", f"/api/v1/jobs/{huge}",
                 f"/api/v1/projects/{-huge}"):
        answer = client.get(path)
        detail = answer.json()["detail"]
        assert answer.status_code == 422 and ("out of range" in detail or "than or equal to" in detail), detail
    assert client.get(f"/api/v1/projects/{pid}/runs?tag={huge}").status_code == 200
    body = client.post("/api/v1/scoring/runs", json={"model_version_id": huge, "source": {"kind": "file", "path": "/x"},
                                                     "output": {"kind": "file", "path": "/y.csv"}})
    assert body.status_code == 422 and "out of range" in body.json()["detail"], body.text


def test_every_request_body_bounds_its_strings(client: TestClient) -> None:
    """Input schemas share one base that caps string fields; an oversize value is refused, naming the field."""
    from mlpilot.core.schemas import MAX_TEXT

    answer = client.post("/api/v1/projects", json={"name": "ok", "description": "x" * (MAX_TEXT + 1)})
    assert answer.status_code == 422 and "description" in answer.json()["detail"], answer.text
    assert client.post("/api/v1/projects", json={"name": "ok", "description": "x" * 1000}).status_code == 201
