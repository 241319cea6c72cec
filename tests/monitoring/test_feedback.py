"""Ground truth sent after the fact is joined to the answered predictions: live accuracy (issue 5 item 6)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.runtime import Runtime
from mlpilot.dataplane.server import DataPlane
from mlpilot.registry.flavors import Prediction
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import churn_inputs, deploy, make_model_version

RECORD = {"tenure": 3, "charges": 70.0, "plan": "basic", "paperless": True}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_churn_model(tmp_path_factory.mktemp("feedback-model") / "v1", rounds=5)


def test_feedback_gives_live_accuracy(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn", model_version_id=version)

    empty = client.get("/api/v1/monitoring/services/churn/quality")
    assert empty.status_code == 200, empty.text
    assert empty.json()["task"] is None and empty.json()["totals"]["count"] == 0

    labels = {}
    for i in range(3):
        answer = client.post("/api/v1/services/churn/predict", json={"records": [RECORD], "request_id": f"r{i}"})
        assert answer.status_code == 200, answer.text
        labels[f"r{i}"] = answer.json()["predictions"][0]["label"]
    oip = client.post("/v2/models/churn/infer", json={"id": "oip-1", "inputs": churn_inputs(1)}).json()
    oip_label = next(o for o in oip["outputs"] if o["name"] == "label")["data"][0]

    wrong = "not-" + labels["r2"]
    body = {"feedback": [{"request_id": "r0", "actual": labels["r0"]}, {"request_id": "r1", "actual": labels["r1"]},
                         {"request_id": "r2", "actual": wrong}, {"request_id": "oip-1", "actual": oip_label},
                         {"request_id": "never-seen", "actual": "yes"}]}
    sent = client.post("/api/v1/services/churn/feedback", json=body)
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"service": "churn", "matched": 4, "unknown": ["never-seen"]}

    quality = client.get("/api/v1/monitoring/services/churn/quality", params={"window": "1h"})
    assert quality.status_code == 200, quality.text
    data = quality.json()
    assert data["task"] == "classification"
    assert data["totals"]["count"] == 4 and data["totals"]["accuracy"] == pytest.approx(0.75)
    assert sum(b["count"] for b in data["series"]) == 4

    # Live accuracy is an alert metric: 0.75 < 0.9 fires.
    rule = client.post("/api/v1/monitoring/alert-rules", json={"name": "churn accuracy", "service": "churn",
                                                               "metric": "accuracy", "op": "<", "threshold": 0.9})
    assert rule.status_code == 201, rule.text
    fired = client.post("/api/v1/monitoring/alert-rules/evaluate").json()
    assert [(e["metric"], e["value"]) for e in fired if e["service"] == "churn"] == [("accuracy", 0.75)]

    # Feedback again on a request replaces the earlier one (the wrong answer is corrected).
    again = client.post("/api/v1/services/churn/feedback",
                        json={"feedback": [{"request_id": "r2", "actual": labels["r2"]}]})
    assert again.json()["matched"] == 1
    fixed = client.get("/api/v1/monitoring/services/churn/quality").json()
    assert fixed["totals"] == {"count": 4, "accuracy": 1.0, "rmse": None, "mae": None}


def test_monitoring_page_shows_live_quality(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    from tests.projects.factories import login

    login(client)
    first = client.get("/monitoring")
    assert first.status_code == 200 and 'id="live-quality"' in first.text
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-page", model_version_id=version)
    label = client.post("/api/v1/services/churn-page/predict",
                        json={"records": [RECORD], "request_id": "p1"}).json()["predictions"][0]["label"]
    client.post("/api/v1/services/churn-page/feedback", json={"feedback": [{"request_id": "p1", "actual": label}]})
    page = client.get("/monitoring")
    assert page.status_code == 200
    card = page.text[page.text.index('id="live-quality"'):]
    assert "churn-page" in card and "100.0%" in card
    client.cookies.set("mlpilot_lang", "ko")
    assert "실시간 품질" in client.get("/monitoring").text


def test_bad_feedback_is_refused(client: TestClient, runtime: Runtime, model_dir: Path) -> None:
    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-bad", model_version_id=version)

    for body in ({}, {"feedback": []}, {"feedback": [{"request_id": "r1"}]},
                 {"feedback": [{"actual": "yes"}]}, [{"request_id": "r1", "actual": "yes"}]):
        refused = client.post("/api/v1/services/churn-bad/feedback", json=body)
        assert refused.status_code == 422, (body, refused.text)
    missing = client.post("/api/v1/services/no-such-service/feedback",
                          json={"feedback": [{"request_id": "r1", "actual": "yes"}]})
    assert missing.status_code == 404, missing.text
    assert "no-such-service" in missing.text
    assert client.get("/api/v1/monitoring/services/no-such-service/quality").status_code == 404


def test_record_logs_client_answers_only(runtime: Runtime) -> None:
    plane = DataPlane(runtime.settings.serving)
    started = time.perf_counter()
    plane.record("svc", "1", started, 200, 1, None, request_id="a",
                 prediction=Prediction(probabilities=None, labels=["yes"], values=None))
    plane.record("svc", "1", started, 200, 1, None, role="shadow", request_id="b",
                 prediction=Prediction(probabilities=None, labels=["no"], values=None))
    plane.record("svc", "1", started, 200, 1, None)  # no id: nothing to join later
    assert plane.predictions.get("svc", "a")[1] == "yes"
    assert plane.predictions.get("svc", "b") is None and len(plane.predictions) == 1


def test_cli_feedback_from_csv_and_json(live_server_url: str, client: TestClient, runtime: Runtime,
                                        model_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mlpilot.cli.main import app

    project = api_project(client)
    version = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
    deploy(client, project_id=project["id"], name="churn-cli", model_version_id=version)
    label = client.post("/api/v1/services/churn-cli/predict",
                        json={"records": [RECORD], "request_id": "c1"}).json()["predictions"][0]["label"]
    (tmp_path / "truth.csv").write_text(f"request_id,actual\nc1,{label}\nghost,yes\n")
    runner = CliRunner()
    sent = runner.invoke(app, ["monitor", "feedback", str(tmp_path / "truth.csv"), "--service", "churn-cli"])
    assert sent.exit_code == 0, sent.output
    assert "1 of 2 outcomes joined" in sent.output and "ghost" in sent.output
    quality = client.get("/api/v1/monitoring/services/churn-cli/quality").json()
    assert quality["totals"] == {"count": 1, "accuracy": 1.0, "rmse": None, "mae": None}

    (tmp_path / "truth.json").write_text('[{"request_id": "c1", "actual": "other"}]')
    again = runner.invoke(app, ["monitor", "feedback", str(tmp_path / "truth.json"), "--service", "churn-cli"])
    assert again.exit_code == 0 and "1 of 1" in again.output
    (tmp_path / "bad.csv").write_text("id,outcome\nc1,yes\n")
    bad = runner.invoke(app, ["monitor", "feedback", str(tmp_path / "bad.csv"), "--service", "churn-cli"])
    assert bad.exit_code == 2 and "needs request_id and actual" in bad.output
    unknown = runner.invoke(app, ["monitor", "feedback", str(tmp_path / "truth.json"), "--service", "nope"])
    assert unknown.exit_code == 1 and "nope" in unknown.output
