"""Every answer names its request, so ground truth sent later can be joined to it (issue 5 item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.runtime import Runtime
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import churn_inputs, deploy, make_model_version

RECORD = {"tenure": 3, "charges": 70.0, "plan": "basic", "paperless": True}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_churn_model(tmp_path_factory.mktemp("request-id-model") / "v1", rounds=5)


def test_answers_echo_or_generate_a_request_id(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn", model_version_id=version)

    echoed = client.post("/v2/models/churn/infer", json={"id": "req-42", "inputs": churn_inputs(2)})
    assert echoed.status_code == 200, echoed.text
    assert echoed.json()["id"] == "req-42"
    generated = {client.post("/v2/models/churn/infer", json={"inputs": churn_inputs(1)}).json()["id"]
                 for _ in range(3)}
    assert len(generated) == 3 and all(len(g) == 32 for g in generated)  # a fresh uuid each time

    plain = client.post("/api/v1/services/churn/predict", json={"records": [RECORD], "request_id": 7})
    assert plain.status_code == 200, plain.text
    assert plain.json()["request_id"] == "7"
    fresh = client.post("/api/v1/services/churn/predict", json={"records": [RECORD]}).json()
    assert len(fresh["request_id"]) == 32 and len(fresh["predictions"]) == 1
