"""Service pages: the list, a service's page with its contract and live chart, and the project section."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.runtime import Runtime
from mlpilot.monitoring import service as monitoring_service
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project, login
from tests.serving.factories import churn_inputs, deploy, make_model_version


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_churn_model(tmp_path_factory.mktemp("view-models") / "churn")


def test_project_section_deploys_from_the_form(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    project = api_project(client)
    login(client)
    url = f"/projects/{project['id']}/_section/services"
    empty = client.get(url)
    assert empty.status_code == 200 and "Train a model and register it" in empty.text
    version_id = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    section = client.get(url)
    assert f'<option value="{version_id}"' in section.text and "churn v1" in section.text

    bad = client.post(url, data={"model_version_id": str(version_id), "name": "-- !"})
    assert bad.status_code == 200 and "&#39;-- !&#39; is invalid" in bad.text
    assert client.get("/api/v1/services").json() == []

    done = client.post(url, data={"model_version_id": str(version_id), "name": "churn-ui", "reason": "pilot"})
    assert done.status_code == 200 and 'href="/services/churn-ui"' in done.text
    assert client.get("/api/v1/services/churn-ui").json()["deployments"][0]["reason"] == "pilot"


def test_service_pages_show_contract_history_and_live_chart(client: TestClient, runtime: Runtime,
                                                            model_dir: Path) -> None:
    project = api_project(client)
    version_id = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-web", model_version_id=version_id, reason="go live")
    login(client)

    page = client.get("/services/churn-web")
    assert page.status_code == 200
    for text in ("tenure", "paperless", "/v2/models/churn-web/infer", "curl -s -X POST", "go live",
                 'hx-get="/services/churn-web/_metrics?window=1h"', "every 5s"):
        assert text in page.text, text

    quiet = client.get("/services/churn-web/_metrics")
    assert quiet.status_code == 200 and "No traffic yet" in quiet.text and "data-chart" not in quiet.text

    for _ in range(3):
        assert client.post("/v2/models/churn-web/infer", json={"inputs": churn_inputs()}).status_code == 200
    monitoring_service.flush_inference_sink(runtime)
    busy = client.get("/services/churn-web/_metrics?window=24h")
    assert busy.status_code == 200 and "<!doctype" not in busy.text.lower()
    spec = json.loads(html.unescape(re.search(r"data-chart='([^']*)'", busy.text).group(1)))
    assert spec["type"] == "line"
    assert sum(v for v in spec["data"]["datasets"][0]["data"] if v) == 3
    assert {d["yAxisID"] for d in spec["data"]["datasets"]} == {"y", "latency"}

    listing = client.get("/services")
    assert listing.status_code == 200 and "churn-web" in listing.text and "churn v1" in listing.text
    row = re.search(r'href="/services/churn-web".*?</tr>', listing.text, re.S).group(0)
    assert '<td class="num">3</td>' in row

    client.post("/services/churn-web/stop", data={"reason": "end of the pilot"}, follow_redirects=False)
    assert client.get("/api/v1/services/churn-web").json()["state"] == "stopped"


def test_pages_need_login_and_unknown_service_is_404(client: TestClient) -> None:
    response = client.get("/services", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    login(client)
    assert client.get("/services/none", headers={"accept": "text/html"}).status_code == 404
    assert "No services yet" in client.get("/services").text


def test_service_page_attaches_and_switches_backends(client: TestClient, runtime: Runtime, model_dir: Path,
                                                     tmp_path: Path) -> None:
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    v2 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v2", rounds=3))
    deploy(client, project_id=project["id"], name="churn-web", model_version_id=v1)
    login(client)
    page = client.get("/services/churn-web")
    assert "Backends and traffic" in page.text and "model:churn v1" in page.text and f'value="{v2}"' in page.text

    url = "/services/churn-web/_traffic"
    done = client.post(url, data={"action": "attach_model", "model_version_id": str(v2), "reason": "new"},
                       follow_redirects=False)
    assert done.status_code == 303
    backend = client.get("/api/v1/services/churn-web/backends").json()[1]["id"]
    bad = client.post(url, data={"action": "canary", "backend_id": str(backend), "weight_pct": "150"})
    assert bad.status_code == 422 and "between 0 and 1" in bad.text
    assert client.post(url, data={"action": "shadow", "backend_id": str(backend)}).status_code == 200
    for _ in range(3):
        client.post("/v2/models/churn-web/infer", json={"inputs": churn_inputs()})
    assert runtime.dataplane.shadow_mirror.wait()
    page = client.get("/services/churn-web")
    assert "Shadow comparison" in page.text and "Agreement rate" in page.text
    assert client.post(url, data={"action": "promote", "backend_id": str(backend), "reason": "ok"}).status_code == 200
    assert client.get("/api/v1/services/churn-web").json()["primary"] == "churn v2"
    page = client.get("/services/churn-web")
    assert "Change history" in page.text and "Roll back one step" in page.text
    bad_ext = client.post(url, data={"action": "attach_external", "ext_name": "x", "url": "http://h", "request": "{"})
    assert bad_ext.status_code == 422 and "not valid JSON" in bad_ext.text
    # Rolling back is confirmed with a reason (kept in the change history); PRG.
    assert client.post(url, data={"action": "rollback", "reason": "v2 answers late"}).status_code == 200
    assert client.get("/api/v1/services/churn-web").json()["primary"] == "churn v1"
