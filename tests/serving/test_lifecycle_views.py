"""Risky service actions from the page: stop and roll back need a reason, Start serves again; unit cost; access."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.runtime import Runtime
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project, login
from tests.serving.factories import churn_inputs, deploy, make_model_version


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_churn_model(tmp_path_factory.mktemp("lifecycle-models") / "churn", rounds=5)


def _user_client(client: TestClient, username: str, role: str, project_id: int | None) -> TestClient:
    assert client.post("/api/v1/users", json={"username": username, "password": "password-123",
                                              "role": role}).status_code == 201
    if project_id is not None:
        assert client.post(f"/api/v1/projects/{project_id}/members", json={"username": username}).status_code == 201
    other = TestClient(client.app)
    login(other, username=username, password="password-123")
    return other


def test_stop_needs_a_reason_and_start_serves_again(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-life", model_version_id=version)
    login(client)
    page = client.get("/services/churn-life")
    assert "Stop service…" in page.text and 'name="reason" required minlength="3"' in page.text

    for reason in ("", "  ", "ab", "x" * 501):
        refused = client.post("/services/churn-life/stop", data={"reason": reason}, follow_redirects=False)
        assert refused.status_code == 422 and "Give a reason of 3 to 500 characters" in refused.text, reason
        assert "<details class=\"confirm\" id=\"stop-service\" open>" in refused.text
    assert client.get("/api/v1/services/churn-life").json()["state"] == "deployed"

    stopped = client.post("/services/churn-life/stop", data={"reason": "model drifts, investigating"},
                          follow_redirects=False)
    assert stopped.status_code == 303 and stopped.headers["location"] == "/services/churn-life"
    detail = client.get("/api/v1/services/churn-life").json()
    assert detail["state"] == "stopped" and detail["deployments"][0]["reason"] == "model drifts, investigating"
    assert client.post("/v2/models/churn-life/infer", json={"inputs": churn_inputs()}).status_code in (404, 503)
    page = client.get("/services/churn-life")
    assert "Start service" in page.text and "Stop service…" not in page.text

    started = client.post("/services/churn-life/start", data={"reason": "fixed"}, follow_redirects=False)
    assert started.status_code == 303
    detail = client.get("/api/v1/services/churn-life").json()
    assert detail["state"] == "deployed" and detail["primary"] == "churn v1"
    assert [d["action"] for d in detail["deployments"][:2]] == ["start", "stop"]
    assert client.post("/v2/models/churn-life/infer", json={"inputs": churn_inputs()}).status_code == 200

    again = client.post("/services/churn-life/start", data={})
    assert again.status_code == 422 and "already running" in again.text
    # The API offers the same way back.
    assert client.post("/api/v1/services/churn-life/stop", json={"reason": "api"}).status_code == 200
    api_start = client.post("/api/v1/services/churn-life/start", json={"reason": "api"})
    assert api_start.status_code == 200 and api_start.json()["state"] == "deployed"
    assert client.post("/api/v1/services/churn-life/start").status_code == 409


def test_rollback_from_the_page_needs_a_reason(client: TestClient, runtime: Runtime, model_dir: Path,
                                               tmp_path: Path) -> None:
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    v2 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v2", rounds=3))
    deploy(client, project_id=project["id"], name="churn-rb", model_version_id=v1)
    deploy(client, project_id=project["id"], name="churn-rb", model_version_id=v2)
    login(client)
    refused = client.post("/services/churn-rb/_traffic", data={"action": "rollback", "reason": ""})
    assert refused.status_code == 422 and "Give a reason" in refused.text
    assert client.get("/api/v1/services/churn-rb").json()["primary"] == "churn v2"
    done = client.post("/services/churn-rb/_traffic", data={"action": "rollback", "reason": "v2 is worse"},
                       follow_redirects=False)
    assert done.status_code == 303
    detail = client.get("/api/v1/services/churn-rb").json()
    assert detail["primary"] == "churn v1" and detail["deployments"][0]["reason"] == "v2 is worse"


def test_unit_cost_is_set_on_the_service_page(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-cost", model_version_id=version)
    login(client)
    assert "not set" in client.get("/services/churn-cost").text
    for unit_cost, currency, message in (("abc", "KRW", "must be a number such as 0.5"),
                                         ("-1", "KRW", "from 0 to 1,000,000"), ("1e9", "KRW", "from 0 to"),
                                         ("nan", "KRW", "from 0 to"), ("2", "₩", "three-letter ISO 4217"),
                                         ("", "KRW", "must be a number")):
        bad = client.post("/services/churn-cost/cost", data={"unit_cost": unit_cost, "currency": currency})
        assert bad.status_code == 422 and message in bad.text, (unit_cost, currency)
        assert f'value="{unit_cost}"' in bad.text  # the input is kept
    saved = client.post("/services/churn-cost/cost", data={"unit_cost": "1,200.5", "currency": "krw"},
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/services/churn-cost#cost"
    assert "1200.5 KRW" in client.get("/services/churn-cost").text
    client.post("/v2/models/churn-cost/infer", json={"inputs": churn_inputs()})
    from mlpilot.monitoring import service as monitoring_service
    monitoring_service.flush_inference_sink(runtime)
    costs = client.get("/api/v1/monitoring/costs").json()
    assert costs[0]["service"] == "churn-cost" and costs[0]["cost"] == pytest.approx(1200.5)
    # Every time axis carries a calendar date, whatever the window.
    for window in ("1h", "24h"):
        fragment = client.get(f"/services/churn-cost/_metrics?window={window}").text
        spec = json.loads(html.unescape(re.search(r"data-chart='([^']*)'", fragment).group(1)))
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", label) for label in spec["data"]["labels"])


def test_viewers_and_outsiders_cannot_stop_start_or_price(client: TestClient, runtime: Runtime,
                                                          model_dir: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-acl", model_version_id=version)
    viewer = _user_client(client, "vic", "viewer", project["id"])
    outsider = _user_client(client, "otto", "member", None)
    page = viewer.get("/services/churn-acl")
    assert page.status_code == 200 and "Stop service…" not in page.text and "Save unit cost" not in page.text
    assert outsider.get("/services/churn-acl", headers={"accept": "text/html"}).status_code in (403, 404)
    for who in (viewer, outsider):
        for path, data in (("stop", {"reason": "because"}), ("start", {}), ("cost", {"unit_cost": "1",
                                                                                    "currency": "KRW"})):
            response = who.post(f"/services/churn-acl/{path}", data=data, follow_redirects=False)
            assert response.status_code in (403, 404), (path, response.status_code)
    assert client.get("/api/v1/services/churn-acl").json()["state"] == "deployed"
