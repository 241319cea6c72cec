"""Engine listing, experiment tracking, test-split evaluation, comparison, model cards and the external HTTP
engine over the real app (SQLite and PostgreSQL), with a real local vendor server."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from mlpilot.training.models import ExternalEngine
from tests.datasets.factories import create_project, csv_bytes, synthetic_frame, upload_ok, wait_job
from tests.projects.factories import login


def fair_frame(task: str, rows: int = 300) -> pl.DataFrame:
    frame = synthetic_frame(task, rows=rows, seed=5)
    return frame.with_columns(pl.Series("region", ["north", "south", "east"] * (rows // 3)))


def start(client: TestClient, pid: int, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/projects/{pid}/runs", json={"time_budget_s": 3, **body})
    assert response.status_code == 202, response.text
    job = wait_job(client, response.json()["job_id"], timeout=120)
    assert job["state"] == "succeeded", job["error"]
    return client.get(f"/api/v1/runs/{response.json()['run']['id']}").json()


def test_engine_listing_reports_capabilities_versions_and_missing_libraries(client: TestClient) -> None:
    listed = {e["name"]: e for e in client.get("/api/v1/engines").json()}
    assert {"auto", "lightgbm", "flaml", "autogluon", "http"} <= set(listed)
    lightgbm = listed["lightgbm"]
    assert lightgbm["installed"] and lightgbm["status"] == "installed" and lightgbm["libraries"]["lightgbm"]
    assert {"binary", "multiclass", "regression"} <= set(lightgbm["capabilities"])
    assert [e["name"] for e in listed.values() if e["default"]] == ["auto"]
    autogluon = listed["autogluon"]
    try:
        import autogluon  # noqa: F401
    except ImportError:
        assert autogluon["status"] == "not installed" and not autogluon["installed"]
        assert "pip install 'mlpilot[autogluon]'" in autogluon["reason"]
        pid = create_project(client)
        version = upload_ok(client, pid, name="t", filename="t.csv", data=csv_bytes(fair_frame("binary")))["version"]
        refused = client.post(f"/api/v1/projects/{pid}/runs", json={"dataset_version_id": version["id"],
                                                                    "target": "y", "engine": "autogluon"})
        assert refused.status_code == 422 and "autogluon" in refused.json()["detail"]
        assert "not installed" in refused.json()["detail"]


def test_runs_are_tracked_evaluated_compared_and_carded(client: TestClient) -> None:
    pid = create_project(client, "Fair lending")
    version = upload_ok(client, pid, name="loans", filename="l.csv", data=csv_bytes(fair_frame("binary")))["version"]
    first = start(client, pid, dataset_version_id=version["id"], target="y", engine="lightgbm",
                  sensitive_column="region", experiment="baseline", tags=["v1", "gbm"], notes="first try")
    second = start(client, pid, dataset_version_id=version["id"], target="y", engine="lightgbm", metric="accuracy",
                   params={"num_leaves": 3, "num_boost_round": 5}, experiment="baseline")

    assert first["status"] == "succeeded" and first["tags"] == ["v1", "gbm"] and first["notes"] == "first try"
    assert first["metrics"]["test_rows"] == 60 and {"roc_auc", "log_loss", "accuracy", "f1", "ece"} <= set(
        first["metrics"])
    assert first["primary_metric"] == "roc_auc" and first["primary_metric_value"] == first["metrics"]["roc_auc"]
    assert second["metric"] == "accuracy" and second["primary_metric"] == "accuracy"
    assert first["validation_metrics"]["holdout_rows"] > 0  # the engine's own validation, kept apart
    evaluation = first["evaluation"]
    assert sum(map(sum, evaluation["confusion_matrix"])) == 60 and evaluation["classes"] == ["no", "yes"]
    assert evaluation["calibration"] and set(evaluation["permutation_importance"]) == {"x1", "x2", "colour",
                                                                                        "region"}
    assert max(evaluation["shap"], key=evaluation["shap"].get) in ("x1", "x2")
    fairness = evaluation["fairness"]
    assert fairness["column"] == "region" and [g["group"] for g in fairness["groups"]] == ["east", "north", "south"]
    assert 0 <= fairness["demographic_parity_difference"] <= 1 and fairness["equalized_odds_difference"] is not None
    assert second["evaluation"]["fairness"] is None
    assert first["library_versions"]["lightgbm"] and first["library_versions"]["python"]
    assert "held out for the test split" in first["logs"] and "done: roc_auc" in first["logs"]
    assert first["experiment_id"] == second["experiment_id"] is not None

    # tags and notes are editable; runs filter by tag; experiments list their runs
    patched = client.patch(f"/api/v1/runs/{second['id']}", json={"add_tags": ["small", "small"], "notes": "tiny"})
    assert patched.status_code == 200 and patched.json()["tags"] == ["small"] and patched.json()["notes"] == "tiny"
    assert [r["id"] for r in client.get(f"/api/v1/projects/{pid}/runs?tag=small").json()] == [second["id"]]
    removed = client.patch(f"/api/v1/runs/{first['id']}", json={"remove_tags": ["gbm"]}).json()
    assert removed["tags"] == ["v1"]
    bad_tag = client.patch(f"/api/v1/runs/{first['id']}", json={"tags": ["x" * 60]})
    assert bad_tag.status_code == 422 and "longer than 50 characters" in bad_tag.json()["detail"]
    [experiment] = client.get(f"/api/v1/projects/{pid}/experiments").json()
    assert experiment["name"] == "baseline" and experiment["runs"] == 2
    board = client.get(f"/api/v1/projects/{pid}/leaderboard").json()
    assert {e["experiment"] for e in board} == {"baseline"}

    # side by side
    compared = client.get(f"/api/v1/runs/compare?ids={first['id']},{second['id']}").json()
    assert [r["run_id"] for r in compared["runs"]] == [first["id"], second["id"]]
    roc = next(m for m in compared["metrics"] if m["metric"] == "roc_auc")
    assert roc["values"] == [first["metrics"]["roc_auc"], second["metrics"]["roc_auc"]] and any(roc["best"])
    assert {"metrics", "calibration", "importance", "roc", "pr"} <= set(compared["charts"])
    assert "bounded" not in compared["charts"]  # a radar of three scores said nothing the bars do not
    one = client.get(f"/api/v1/runs/compare?ids={first['id']}")
    assert one.status_code == 422 and "at least two" in one.json()["detail"]
    junk = client.get("/api/v1/runs/compare?ids=1,x")
    assert junk.status_code == 422 and "comma-separated" in junk.json()["detail"]

    # pages (logged in through the browser form)
    login(client)
    run_page = client.get(f"/runs/{first['id']}")
    assert run_page.status_code == 200 and "/model-card?locale=ko" in run_page.text and "east" in run_page.text
    page = client.get(f"/runs/compare?ids={first['id']}&ids={second['id']}")
    assert page.status_code == 200 and 'data-testid="chart-metrics"' in page.text
    section = client.get(f"/projects/{pid}/_section/runs")
    assert 'name="ids"' in section.text and 'name="sensitive_column"' in section.text
    assert client.get(f"/runs/{first['id']}/model-card?locale=ko").status_code == 200
    edited = client.post(f"/runs/{first['id']}/edit", data={"tags": "a, b ,a", "notes": "n"}, follow_redirects=False)
    assert edited.status_code == 303 and client.get(f"/api/v1/runs/{first['id']}").json()["tags"] == ["a", "b"]

    # model card: HTML in English and Korean, PDF
    english = client.get(f"/api/v1/runs/{first['id']}/model-card?locale=en")
    assert english.status_code == 200 and "Model card" in english.text
    assert "Demographic-parity difference" in english.text
    assert "loans v1" in english.text and "region" in english.text
    korean = client.get(f"/api/v1/runs/{first['id']}/model-card?locale=ko")
    assert korean.status_code == 200 and "모델 카드" in korean.text
    pdf = client.get(f"/api/v1/runs/{first['id']}/model-card?format=pdf&locale=en")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Model card" in text and "Fairness" in text
    korean_pdf = client.get(f"/api/v1/runs/{first['id']}/model-card?format=pdf&locale=ko")
    assert korean_pdf.status_code == 200 and korean_pdf.content.startswith(b"%PDF")
    assert "model-card-run-" in korean_pdf.headers["content-disposition"]


def test_regression_run_has_residuals_and_group_errors(client: TestClient) -> None:
    pid = create_project(client)
    version = upload_ok(client, pid, name="r", filename="r.csv", data=csv_bytes(fair_frame("regression")))["version"]
    run = start(client, pid, dataset_version_id=version["id"], target="y", engine="lightgbm",
                sensitive_column="colour", metric="mae")
    assert run["primary_metric"] == "mae" and {"rmse", "mae", "r2"} <= set(run["metrics"])
    residuals = run["evaluation"]["residuals"]
    assert len(residuals["points"]) == run["metrics"]["test_rows"] == 60
    fairness = run["evaluation"]["fairness"]
    assert fairness["kind"] == "regression" and {g["group"] for g in fairness["groups"]} == {"red", "green", "blue"}
    card = client.get(f"/api/v1/runs/{run['id']}/model-card")
    assert card.status_code == 200 and "Residuals" in card.text


def test_bad_tracking_requests_are_rejected_clearly(client: TestClient) -> None:
    pid = create_project(client)
    other = create_project(client, "Other")
    version = upload_ok(client, pid, name="t", filename="t.csv", data=csv_bytes(fair_frame("binary")))["version"]
    cases = [
        ({"sensitive_column": "y"}, "must not be the target"),
        ({"sensitive_column": "nope"}, "Sensitive column 'nope' is not in dataset"),
        ({"metric": "rmse"}, "Metric 'rmse' does not fit task 'binary'"),
        ({"engine": "http"}, "needs external_engine_id"),
        ({"engine": "lightgbm", "external_engine_id": 1}, "only used with engine 'http'"),
        ({"tags": ["a"] * 0 + [f"t{i}" for i in range(25)]}, "at most 20 tags"),
    ]
    for body, message in cases:
        response = client.post(f"/api/v1/projects/{pid}/runs",
                               json={"dataset_version_id": version["id"], "target": "y", **body})
        assert response.status_code == 422, (body, response.text)
        assert message in response.json()["detail"], (body, response.json()["detail"])
    running = client.post(f"/api/v1/projects/{pid}/runs", json={"dataset_version_id": version["id"], "target": "y",
                                                                "engine": "lightgbm", "time_budget_s": 2}).json()
    wait_job(client, running["job_id"], timeout=120)
    foreign = upload_ok(client, other, name="f", filename="f.csv", data=csv_bytes(fair_frame("binary")))["version"]
    theirs = client.post(f"/api/v1/projects/{other}/runs", json={"dataset_version_id": foreign["id"], "target": "y",
                                                                  "engine": "lightgbm", "time_budget_s": 2}).json()
    wait_job(client, theirs["job_id"], timeout=120)
    mixed = client.get(f"/api/v1/runs/compare?ids={running['run']['id']},{theirs['run']['id']}")
    assert mixed.status_code == 422 and "different projects" in mixed.json()["detail"]
    missing = client.get(f"/api/v1/runs/compare?ids={running['run']['id']},9999")
    assert missing.status_code == 404 and "Run 9999 does not exist" in missing.json()["detail"]
    tiny = pl.DataFrame({"x": [1, 2, 3, 4, 5], "y": ["a", "b", "a", "b", "a"]})
    tiny_version = upload_ok(client, pid, name="tiny", filename="s.csv", data=csv_bytes(tiny))["version"]
    failing = client.post(f"/api/v1/projects/{pid}/runs", json={"dataset_version_id": tiny_version["id"],
                                                                 "target": "y", "engine": "lightgbm"}).json()
    assert wait_job(client, failing["job_id"], timeout=60)["state"] == "failed"
    card = client.get(f"/api/v1/runs/{failing['run']['id']}/model-card")
    assert card.status_code == 422 and "is failed; a model card needs a succeeded run" in card.json()["detail"]


# --- the external HTTP engine against a real vendor server ------------------------------------------------------

class Vendor(BaseHTTPRequestHandler):
    """A vendor scoring API: needs a bearer token, answers {"result": {"scores": [{"p_yes": …}, …]}}."""

    token = "Bearer s3cret-token"
    calls: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Vendor.calls.append({"auth": self.headers.get("Authorization"), "rows": len(body["data"]["rows"])})
        if self.headers.get("Authorization") != self.token:
            self._answer(401, {"error": "bad token"})
            return
        if self.path == "/broken":
            self._answer(500, {"error": "model crashed"})
            return
        scores = [{"p_yes": float(1 / (1 + np.exp(-4 * (2 * row["x1"] - row["x2"]))))} for row in body["data"]["rows"]]
        self._answer(200, {"result": {"scores": scores}})

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def vendor_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Vendor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Vendor.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_external_http_engine_is_scored_on_the_same_test_split(client: TestClient, vendor_url: str) -> None:
    pid = create_project(client, "Vendors")
    frame = synthetic_frame("binary", rows=300, seed=5)
    version = upload_ok(client, pid, name="v", filename="v.csv", data=csv_bytes(frame))["version"]
    mapping = {"url": f"{vendor_url}/score", "request": {"data": {"rows": "$records"}},
               "response_path": "result.scores", "response_field": "p_yes", "timeout_s": 10,
               "headers": {"X-Client": "mlpilot"}}
    created = client.post(f"/api/v1/projects/{pid}/external-engines",
                          json={"name": "acme-score", **mapping, "secret_headers": {"Authorization": Vendor.token}})
    assert created.status_code == 201, created.text
    external = created.json()
    assert external["secret_headers"] == {"Authorization": "***"} and "s3cret" not in created.text
    with client.app.state.runtime.sessions() as session:
        stored = session.get(ExternalEngine, external["id"])
        assert stored.secrets_encrypted and "s3cret" not in stored.secrets_encrypted
        assert "Authorization" not in stored.config["headers"]
    duplicate = client.post(f"/api/v1/projects/{pid}/external-engines", json={"name": "acme-score", **mapping})
    assert duplicate.status_code == 409
    no_rows = client.post(f"/api/v1/projects/{pid}/external-engines",
                          json={"name": "x", **mapping, "request": {"data": "rows"}})
    assert no_rows.status_code == 422 and "$records" in no_rows.json()["detail"]

    vendor = start(client, pid, dataset_version_id=version["id"], target="y", engine="http",
                   external_engine_id=external["id"], sensitive_column="colour")
    ours = start(client, pid, dataset_version_id=version["id"], target="y", engine="lightgbm")
    assert vendor["status"] == "succeeded" and vendor["flavor"] == "external" and vendor["artifact_key"] is None
    assert vendor["params"]["external_engine"] == "acme-score"
    assert vendor["metrics"]["test_rows"] == ours["metrics"]["test_rows"] == 60
    assert vendor["metrics"]["roc_auc"] > 0.9 and vendor["evaluation"]["fairness"]["column"] == "colour"
    assert all(call["auth"] == Vendor.token for call in Vendor.calls)
    board = client.get(f"/api/v1/projects/{pid}/leaderboard").json()
    assert {e["engine"] for e in board} == {"http", "lightgbm"}
    # Nothing to serve from a vendor run: no model version registered for it.
    assert [v["run_id"] for v in client.get(f"/api/v1/projects/{pid}/model-versions").json()] == [ours["id"]]

    broken = client.post(f"/api/v1/projects/{pid}/external-engines",
                         json={"name": "acme-broken", **{**mapping, "url": f"{vendor_url}/broken"},
                               "secret_headers": {"Authorization": Vendor.token}}).json()
    response = client.post(f"/api/v1/projects/{pid}/runs", json={"dataset_version_id": version["id"], "target": "y",
                                                                 "engine": "http", "external_engine_id": broken["id"]})
    job = wait_job(client, response.json()["job_id"], timeout=60)
    assert job["state"] == "failed" and "answered HTTP 500" in job["error"]

    # the same from the project page's form; a bad template is refused with the section re-shown
    login(client)
    form = {"name": "from-form", "url": f"{vendor_url}/score", "request": '{"data": {"rows": "$records"}}',
            "response_path": "result.scores", "response_field": "p_yes", "secret_header": "Authorization",
            "secret_value": Vendor.token}
    assert client.post(f"/projects/{pid}/external-engines/create", data=form, follow_redirects=False).status_code == 303
    names = [e["name"] for e in client.get(f"/api/v1/projects/{pid}/external-engines").json()]
    assert names == ["acme-score", "acme-broken", "from-form"]
    bad = client.post(f"/projects/{pid}/external-engines/create", data={**form, "name": "x", "request": "{oops"})
    assert bad.status_code == 422 and "must be JSON" in bad.text
    assert client.delete(f"/api/v1/projects/{pid}/external-engines/{broken['id']}").status_code == 204
    gone = client.delete(f"/api/v1/projects/{pid}/external-engines/{broken['id']}")
    assert gone.status_code == 404 and f"External engine {broken['id']} does not exist" in gone.json()["detail"]
    assert client.get(f"/api/v1/runs/{vendor['id']}").json()["metrics"]["roc_auc"] > 0.9  # results stay
    failed = client.get(f"/api/v1/runs/{response.json()['run']['id']}").json()
    assert failed["status"] == "failed" and "answered HTTP 500" in failed["logs"]


def test_flaml_peer_engine_runs_through_the_same_path(client: TestClient) -> None:
    pytest.importorskip("flaml")
    pid = create_project(client)
    version = upload_ok(client, pid, name="m", filename="m.csv", data=csv_bytes(fair_frame("multiclass")))["version"]
    run = start(client, pid, dataset_version_id=version["id"], target="y", engine="flaml", sensitive_column="region")
    assert run["flavor"] == "sklearn" and run["primary_metric"] == "log_loss" and run["library_versions"]["flaml"]
    assert run["evaluation"]["fairness"]["positive_class"] == "mid" and len(run["evaluation"]["classes"]) == 3
    [model] = client.get(f"/api/v1/projects/{pid}/model-versions").json()
    assert model["run_id"] == run["id"]
