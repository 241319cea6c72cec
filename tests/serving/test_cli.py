"""`mlpilot services …` and `mlpilot models …` against a live server: traffic, audit, stage, import, export."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mlpilot.cli.main import app
from mlpilot.core.runtime import Runtime
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import ExternalEngine, deploy, make_model_version


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_services_traffic_from_the_cli(client: TestClient, runtime: Runtime, live_server_url: str,
                                       tmp_path: Path) -> None:
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v1", rounds=5))
    v2 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v2"))
    deploy(client, project_id=project["id"], name="churn", model_version_id=v1)

    assert "Attached backend" in cli("services", "attach", "churn", "--model-version", str(v2), "--reason", "new")
    backends = client.get("/api/v1/services/churn/backends").json()
    candidate = str(backends[1]["id"])
    assert "model:churn v2" in cli("services", "backends", "churn")
    assert "canary: model:churn v2 (25%)" in cli("services", "canary", "churn", candidate, "--weight", "0.25")
    assert "shadow: model:churn v2" in cli("services", "shadow", "churn", candidate)
    assert '"shadow"' in cli("services", "live", "churn")
    assert "now serves churn v2" in cli("services", "promote", "churn", "--reason", "better")
    assert "churn v1 again" in cli("services", "rollback", "churn", "--reason", "worse")
    with ExternalEngine() as engine:
        out = cli("services", "attach", "churn", "--external-url", engine.url, "--external-name", "vendor",
                  "--response-path", "predictions", "--timeout", "2")
        assert "external:vendor" in out
    audit = cli("services", "audit", "churn")
    for word in ("rollback", "promote", "shadow", "canary", "attach", "deploy", "worse", "admin"):
        assert word in audit
    assert "single: model:churn v2" in audit
    result = CliRunner().invoke(app, ["services", "canary", "churn", candidate, "--weight", "2"])
    assert result.exit_code == 1 and "between 0 and 1" in result.output


def test_models_stage_import_export_from_the_cli(client: TestClient, live_server_url: str, tmp_path: Path) -> None:
    project = api_project(client)
    model = make_churn_model(tmp_path / "churn")
    signature = tmp_path / "signature.json"
    signature.write_text(json.dumps({"classes": ["no", "yes"], "target": "churn"}))
    out = cli("models", "import", str(project["id"]), str(model / "model.txt"), "--flavor", "lightgbm",
              "--name", "booster", "--signature", str(signature))
    assert "Imported booster v1" in out and "binary" in out
    versions = client.get(f"/api/v1/projects/{project['id']}/model-versions").json()
    first = str(versions[0]["id"])
    assert "is now production" in cli("models", "stage", first, "production", "--reason", "approved")
    assert "production" in cli("models", "list", str(project["id"]))
    assert '"to_stage": "production"' in cli("models", "show", first)
    onnx = tmp_path / "out.onnx"
    out = cli("models", "export", first, "--out", str(onnx))
    assert "Exported booster v2" in out and "labels agree 100.0%" in out and onnx.stat().st_size > 100
    result = CliRunner().invoke(app, ["models", "stage", first, "prod"], terminal_width=200)
    assert result.exit_code == 1 and "staging, production, archived" in result.output
