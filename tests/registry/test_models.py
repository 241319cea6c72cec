"""Registry over the real app: import every flavor (signature from the model or declared), stages with an
audit trail, lineage from a real run, export to ONNX with a parity check, and the bad-input paths.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import joblib
import numpy as np
import pytest
import xgboost as xgb
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

from tests.dataplane.factories import make_churn_model
from tests.datasets.factories import churn_sample_tsv, create_project, upload_ok, wait_job
from tests.serving.factories import deploy, role_headers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(200, 3))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("import-files")
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=Y, feature_names=["a", "b", "c"]), 5)
    booster.save_model(str(root / "model.json"))
    booster.save_model(str(root / "model.ubj"))
    joblib.dump(LogisticRegression().fit(X, Y), root / "model.joblib")
    from skl2onnx import to_onnx

    onnx = to_onnx(LogisticRegression().fit(X.astype(np.float32), Y), X[:1].astype(np.float32),
                   options={"zipmap": False})
    (root / "model.onnx").write_bytes(onnx.SerializeToString())
    make_churn_model(root / "churn")
    (root / "junk.bin").write_bytes(b"not a model at all")
    return {"xgb_json": root / "model.json", "xgb_ubj": root / "model.ubj", "joblib": root / "model.joblib",
            "onnx": root / "model.onnx", "lightgbm": root / "churn" / "model.txt", "junk": root / "junk.bin"}


def import_file(client: TestClient, pid: int, path: Path, flavor: str, name: str, *, signature: dict | None = None,
                headers: dict | None = None):  # noqa: ANN201 - a response
    data = {"flavor": flavor, "name": name}
    if signature is not None:
        data["signature"] = json.dumps(signature)
    return client.post(f"/api/v1/projects/{pid}/model-versions/import", data=data,
                       files={"file": (path.name, io.BytesIO(path.read_bytes()))}, headers=headers or {})


def matrix_inputs(names: list[str], rows: np.ndarray) -> list[dict]:
    return [{"name": n, "shape": [len(rows)], "datatype": "FP64", "data": rows[:, i].tolist()}
            for i, n in enumerate(names)]


@pytest.mark.parametrize(("key", "flavor", "names"), [
    ("xgb_json", "xgboost", ["a", "b", "c"]), ("xgb_ubj", "xgboost", ["a", "b", "c"]),
    ("onnx", "onnx", ["f0", "f1", "f2"]), ("joblib", "sklearn", ["f0", "f1", "f2"]),
])
def test_import_each_flavor_and_serve_it(client: TestClient, files: dict[str, Path], key: str, flavor: str,
                                         names: list[str]) -> None:
    pid = create_project(client)
    response = import_file(client, pid, files[key], flavor, "scorer")
    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail["flavor"] == flavor and detail["stage"] == "staging" and detail["version"] == 1
    assert [i["name"] for i in detail["signature"]["inputs"]] == names
    assert detail["signature"]["task"] == "binary" and detail["signature"]["classes"] == ["0", "1"]
    assert detail["source"]["kind"] == "import" and detail["source"]["file"] == files[key].name
    assert detail["lineage"]["source"]["sha256"] and detail["transitions"][0]["to_stage"] == "staging"
    deploy(client, project_id=pid, name="scorer", model_version_id=detail["id"])
    body = client.post("/v2/models/scorer/infer", json={"inputs": matrix_inputs(names, X[:4])}).json()
    probabilities = np.asarray(body["outputs"][0]["data"]).reshape(4, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert body["outputs"][1]["data"] == [str(int(v)) for v in probabilities.argmax(axis=1)]


def test_a_declared_signature_names_the_columns_and_classes(client: TestClient, files: dict[str, Path]) -> None:
    pid = create_project(client)
    declared = {"inputs": [{"name": "age", "dtype": "float64"}, "income", {"name": "score", "nullable": False}],
                "classes": ["stay", "leave"], "target": "churn"}
    response = import_file(client, pid, files["onnx"], "onnx", "declared", signature=declared)
    assert response.status_code == 201, response.text
    signature = response.json()["signature"]
    assert [i["name"] for i in signature["inputs"]] == ["age", "income", "score"]
    assert signature["classes"] == ["stay", "leave"] and signature["target"] == "churn"
    assert signature["inputs"][2]["nullable"] is False
    deploy(client, project_id=pid, name="declared", model_version_id=response.json()["id"])
    body = client.post("/v2/models/declared/infer",
                       json={"inputs": matrix_inputs(["age", "income", "score"], X[:2])}).json()
    assert set(body["outputs"][1]["data"]) <= {"stay", "leave"}


def test_bad_imports_say_what_is_wrong(client: TestClient, files: dict[str, Path]) -> None:
    pid = create_project(client)
    cases = [
        (files["junk"], "onnx", None, 422, "not a usable ONNX model"),
        (files["junk"], "xgboost", None, 422, "not an XGBoost model file"),
        (files["junk"], "lightgbm", None, 422, "not a LightGBM model file"),
        (files["junk"], "sklearn", None, 422, "could not be loaded as a joblib/pickle file"),
        (files["onnx"], "tensorflow", None, 422, "expected one of: onnx, sklearn, lightgbm, xgboost"),
        (files["onnx"], "onnx", {"inputs": ["only-one"]}, 422, "lists 1 inputs; the model takes 3"),
        (files["onnx"], "onnx", {"classes": ["a", "b", "c"]}, 422, "has 3 classes; the model predicts 2"),
        (files["onnx"], "onnx", {"task": "ranking"}, 422, "Declared task 'ranking' is unknown"),
    ]
    for path, flavor, signature, status, message in cases:
        response = import_file(client, pid, path, flavor, "bad", signature=signature)
        assert response.status_code == status and message in response.json()["detail"], (flavor, response.text)
    response = client.post(f"/api/v1/projects/{pid}/model-versions/import",
                           data={"flavor": "onnx", "name": "x", "signature": "{not json"},
                           files={"file": ("m.onnx", io.BytesIO(files["onnx"].read_bytes()))})
    assert response.status_code == 422 and "not valid JSON" in response.json()["detail"]
    assert client.get(f"/api/v1/projects/{pid}/model-versions").json() == []
    # Pickles run code when loaded: a member may import ONNX but not a pickle.
    member = role_headers(client, pid, "member")
    response = import_file(client, pid, files["joblib"], "sklearn", "pickle", headers=member)
    assert response.status_code == 403 and "only an admin" in response.json()["detail"]
    assert import_file(client, pid, files["onnx"], "onnx", "fine", headers=member).status_code == 201


def test_stages_move_with_an_audit_trail(client: TestClient, files: dict[str, Path]) -> None:
    pid = create_project(client)
    v1 = import_file(client, pid, files["xgb_json"], "xgboost", "scorer").json()
    v2 = import_file(client, pid, files["xgb_ubj"], "xgboost", "scorer").json()
    assert v2["version"] == 2
    moved = client.post(f"/api/v1/model-versions/{v1['id']}/stage", json={"stage": "production", "reason": "go"})
    assert moved.status_code == 200 and moved.json()["stage"] == "production"
    moved = client.post(f"/api/v1/model-versions/{v2['id']}/stage", json={"stage": "production", "reason": "better"})
    assert moved.status_code == 200
    first = client.get(f"/api/v1/model-versions/{v1['id']}").json()
    assert first["stage"] == "archived"
    assert [(t["from_stage"], t["to_stage"], t["reason"]) for t in first["transitions"]] == [
        ("production", "archived", "v2 moved to production"), ("staging", "production", "go"),
        (None, "staging", "imported from model.json")]
    again = client.post(f"/api/v1/model-versions/{v2['id']}/stage", json={"stage": "production"})
    assert again.status_code == 409 and "already in production" in again.json()["detail"]
    unknown = client.post(f"/api/v1/model-versions/{v2['id']}/stage", json={"stage": "prod"})
    assert unknown.status_code == 422 and "staging, production, archived" in unknown.json()["detail"]
    listed = {m["version"]: m["stage"] for m in client.get(f"/api/v1/projects/{pid}/model-versions").json()}
    assert listed == {1: "archived", 2: "production"}
    # An archived version cannot be put behind a service.
    deploy(client, project_id=pid, name="scorer", model_version_id=v2["id"])
    response = client.post("/api/v1/services/scorer/backends", json={"model_version_id": v1["id"]})
    assert response.status_code == 422 and "archived" in response.json()["detail"]


def test_run_lineage_and_onnx_export_with_parity(client: TestClient, files: dict[str, Path]) -> None:
    pid = create_project(client)
    version = upload_ok(client, pid, name="churn", filename="churn.tsv", data=churn_sample_tsv(400))["version"]
    response = client.post(f"/api/v1/projects/{pid}/runs", json={
        "time_budget_s": 2, "dataset_version_id": version["id"], "target": "target", "task": "binary",
        "engine": "lightgbm"})
    assert response.status_code == 202, response.text
    assert wait_job(client, response.json()["job_id"])["state"] == "succeeded"
    model = client.get(f"/api/v1/projects/{pid}/model-versions").json()[0]
    detail = client.get(f"/api/v1/model-versions/{model['id']}").json()
    lineage = detail["lineage"]
    assert lineage["run"]["id"] == model["run_id"] and lineage["run"]["target"] == "target"
    assert lineage["dataset_version"]["id"] == version["id"] and lineage["dataset_version"]["dataset_name"] == "churn"
    assert "recipe" in lineage

    exported = client.post(f"/api/v1/model-versions/{model['id']}/export/onnx")
    assert exported.status_code == 201, exported.text
    parity = exported.json()["parity"]
    assert parity["passed"] is True and parity["max_abs_diff"] <= parity["tolerance"] and parity["rows"] > 100
    onnx_version = exported.json()["model_version"]
    assert onnx_version["flavor"] == "onnx" and onnx_version["version"] == model["version"] + 1
    assert onnx_version["lineage"]["exported_from"]["id"] == model["id"]
    assert onnx_version["lineage"]["run"]["id"] == model["run_id"]
    download = client.get(f"/api/v1/model-versions/{onnx_version['id']}/files/model.onnx")
    assert download.status_code == 200 and len(download.content) > 100
    missing = client.get(f"/api/v1/model-versions/{onnx_version['id']}/files/..%2Fsecret")
    assert missing.status_code == 404
    again = client.post(f"/api/v1/model-versions/{onnx_version['id']}/export/onnx")
    assert again.status_code == 422 and "already ONNX" in again.json()["detail"]

    # The ONNX version can replace the LightGBM one behind a service: same contract, near-equal answers.
    deploy(client, project_id=pid, name="churn", model_version_id=model["id"])
    rows = [{"name": c["name"], "shape": [1], "datatype": "FP64", "data": [1.0]}
            for c in detail["signature"]["inputs"] if c["dtype"] != "string"]
    rows += [{"name": c["name"], "shape": [1], "datatype": "BYTES", "data": [c["categories"][0]]}
             for c in detail["signature"]["inputs"] if c["dtype"] == "string"]
    before = client.post("/v2/models/churn/infer", json={"inputs": rows}).json()["outputs"][0]["data"]
    response = client.post("/api/v1/services/churn/backends", json={"model_version_id": onnx_version["id"]})
    assert response.status_code == 201, response.text
    assert client.post("/api/v1/services/churn/promote", json={"backend_id": response.json()["id"]}).status_code == 200
    after = client.post("/v2/models/churn/infer", json={"inputs": rows}).json()["outputs"][0]["data"]
    assert np.allclose(before, after, atol=1e-4)


def test_lightgbm_import_keeps_working(client: TestClient, files: dict[str, Path]) -> None:
    pid = create_project(client)
    response = import_file(client, pid, files["lightgbm"], "lightgbm", "booster")
    assert response.status_code == 201, response.text
    assert response.json()["flavor"] == "lightgbm" and len(response.json()["signature"]["inputs"]) == 4
    deploy(client, project_id=pid, name="booster", model_version_id=response.json()["id"])
    names = [i["name"] for i in response.json()["signature"]["inputs"]]
    assert client.post("/v2/models/booster/infer", json={"inputs": matrix_inputs(names, X[:2, [0, 1, 2, 0]])}
                       ).status_code == 200
