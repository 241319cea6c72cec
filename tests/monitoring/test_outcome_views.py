"""Outcomes uploaded from the service's page: a CSV joined to the prediction log, errors naming line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.monitoring.outcomes import parse_outcomes
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project, login
from tests.serving.factories import deploy, make_model_version

RECORD = {"tenure": 3, "charges": 70.0, "plan": "basic", "paperless": True}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_churn_model(tmp_path_factory.mktemp("outcome-model") / "v1", rounds=5)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "is empty"),
    (b"id,label\n1,yes\n", "line 1: the header needs the columns request_id and actual; missing request_id, actual"),
    (b"request_id,actual\n", "has a header but no outcomes"),
    (b"request_id,actual\nr1,yes\n,no\n", "line 3, field request_id: the value is empty"),
    (b"request_id,actual\nr1,\n", "line 2, field actual: the value is empty"),
    (b"request_id,actual\n" + b"r" * 201 + b",yes\n", "line 2, field request_id: the value is longer than 200"),
    (b"\x00\x01binary", "not a text file"),
])
def test_parse_refuses_bad_files_naming_line_and_field(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_outcomes(data, source="outcomes.csv", task="classification")
    assert message in caught.value.detail and "outcomes.csv" in caught.value.detail


def test_parse_reads_cp949_and_checks_regression_numbers() -> None:
    parsed = parse_outcomes("Request_ID,실제값,actual\nr1,예,yes\n\nr2,아니오,no\n".encode("cp949"),
                            source="결과.csv", task="classification")
    assert parsed.items == [{"request_id": "r1", "actual": "yes"}, {"request_id": "r2", "actual": "no"}]
    assert parsed.encoding == "cp949"
    numbers = parse_outcomes(b"request_id,actual\nr1,\"1,250.5\"\n", source="y.csv", task="regression")
    assert numbers.items == [{"request_id": "r1", "actual": 1250.5}]
    with pytest.raises(InvalidInput) as caught:
        parse_outcomes(b"request_id,actual\nr1,3\nr2,high\n", source="y.csv", task="regression")
    assert "line 3, field actual: a regression service needs a number, not 'high'" in caught.value.detail


def test_outcomes_page_joins_uploads_to_predictions(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-out", model_version_id=version)
    labels = {}
    for i in range(3):
        answer = client.post("/api/v1/services/churn-out/predict", json={"records": [RECORD], "request_id": f"r{i}"})
        labels[f"r{i}"] = answer.json()["predictions"][0]["label"]
    login(client)
    page = client.get("/services/churn-out/outcomes")
    assert page.status_code == 200 and "No outcomes yet" in page.text and "request_id,actual" in page.text
    assert 'href="/services/churn-out/outcomes"' in client.get("/services/churn-out").text

    refused = client.post("/services/churn-out/outcomes",
                          files={"file": ("truth.csv", b"request_id,actual\nr0,yes\nr1,\n", "text/csv")})
    assert refused.status_code == 422 and "truth.csv line 3, field actual: the value is empty" in refused.text
    assert client.get("/api/v1/monitoring/services/churn-out/quality").json()["totals"]["count"] == 0
    nothing = client.post("/services/churn-out/outcomes", data={"text": ""})
    assert nothing.status_code == 422 and "Choose a CSV file" in nothing.text
    pasted_bad = client.post("/services/churn-out/outcomes", data={"text": "request_id;actual\nr0;yes"})
    assert pasted_bad.status_code == 422 and "pasted text line 1" in pasted_bad.text
    assert "request_id;actual" in pasted_bad.text  # the pasted lines are kept

    wrong = "not-" + labels["r2"]
    body = f"request_id,actual\nr0,{labels['r0']}\nr1,{labels['r1']}\nr2,{wrong}\nnever-seen,yes\n".encode()
    stored = client.post("/services/churn-out/outcomes", files={"file": ("truth.csv", body, "text/csv")},
                         follow_redirects=False)
    assert stored.status_code == 303
    assert stored.headers["location"] == "/services/churn-out/outcomes?matched=3&unknown=1&encoding=utf-8"
    shown = client.get(stored.headers["location"])
    assert "3 outcomes joined to predictions; 1 request ids" in shown.text and "66.7 %" in shown.text
    quality = client.get("/api/v1/monitoring/services/churn-out/quality").json()
    assert quality["totals"]["count"] == 3 and quality["totals"]["accuracy"] == pytest.approx(2 / 3)

    korean = TestClient(client.app)
    login(korean)
    korean.cookies.set("mlpilot_lang", "ko")
    ko = korean.post("/services/churn-out/outcomes", files={"file": ("t.csv", b"request_id,actual\n,yes\n")})
    assert ko.status_code == 422 and "t.csv 2행, request_id 필드: 값이 비어 있습니다." in ko.text


def test_viewers_and_outsiders_cannot_upload_outcomes(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-out-acl", model_version_id=version)
    for username, role, member in (("vic", "viewer", True), ("otto", "member", False)):
        client.post("/api/v1/users", json={"username": username, "password": "password-123", "role": role})
        if member:
            client.post(f"/api/v1/projects/{project['id']}/members", json={"username": username})
        other = TestClient(client.app)
        login(other, username=username, password="password-123")
        response = other.post("/services/churn-out-acl/outcomes", data={"text": "request_id,actual\nr0,yes\n"},
                              follow_redirects=False)
        assert response.status_code in (403, 404), (username, response.status_code)
    viewer_page = TestClient(client.app)
    login(viewer_page, username="vic", password="password-123")
    page = viewer_page.get("/services/churn-out-acl/outcomes")
    assert page.status_code == 200 and "Upload outcomes" not in page.text
