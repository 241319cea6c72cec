"""`mlpilot serve` as a user runs it: a real process on a free port serving an imported or mlpilot model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import joblib
import lightgbm as lgb
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

MLPILOT = Path(sys.executable).with_name("mlpilot")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(*args: str, token: str | None = None) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    if token is not None:
        env["MLPILOT_SERVE_TOKEN"] = token
    process = subprocess.Popen([str(MLPILOT), "serve", *args, "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlpilot serve exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "mlpilot serve did not become ready"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(400, 5))
    labels = (features[:, 0] + 0.5 * features[:, 1] > 0).astype(int)
    return features, labels


def _infer(url: str, name: str, rows: np.ndarray) -> dict:
    body = {"inputs": [{"name": "input-0", "shape": list(rows.shape), "datatype": "FP64",
                        "data": rows.ravel().tolist()}]}
    response = httpx.post(f"{url}/v2/models/{name}/infer", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_import_native_lightgbm_file(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    features, labels = data
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(features, labels), 20)
    booster.save_model(str(tmp_path / "model.txt"))
    with serving("--import", str(tmp_path / "model.txt"), "--flavor", "lightgbm", "--name", "native") as url:
        metadata = httpx.get(f"{url}/v2/models/native").json()
        assert len(metadata["inputs"]) == 5
        answer = _infer(url, "native", features[:4])
    probabilities = np.asarray(answer["outputs"][0]["data"]).reshape(4, 2)
    np.testing.assert_allclose(probabilities[:, 1], booster.predict(features[:4]), rtol=1e-9)


def test_import_pickled_estimators(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    features, labels = data
    joblib.dump(LogisticRegression().fit(features, labels), tmp_path / "logreg.joblib")
    classifier = lgb.LGBMClassifier(n_estimators=15, verbose=-1).fit(features, labels)
    joblib.dump(classifier, tmp_path / "lgbm.joblib")
    with serving("--import", str(tmp_path / "logreg.joblib"), "--flavor", "sklearn", "--name", "logreg") as url:
        answer = _infer(url, "logreg", features[:3])
        assert np.allclose(np.asarray(answer["outputs"][0]["data"]).reshape(3, 2).sum(axis=1), 1.0)
    with serving("--import", str(tmp_path / "lgbm.joblib"), "--flavor", "sklearn", "--name", "lgbm") as url:
        answer = _infer(url, "lgbm", features[:3])
        expected = classifier.predict_proba(features[:3])
        np.testing.assert_allclose(np.asarray(answer["outputs"][0]["data"]).reshape(3, 2), expected, rtol=1e-9)


def test_bad_arguments_exit_with_a_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    both_missing = subprocess.run([str(MLPILOT), "serve", "--name", "x"], capture_output=True, text=True, env=env)
    assert both_missing.returncode == 2 and "exactly one" in both_missing.stderr
    junk = tmp_path / "junk.txt"
    junk.write_text("not a model")
    bad = subprocess.run([str(MLPILOT), "serve", "--name", "x", "--import", str(junk), "--flavor", "lightgbm"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "not a LightGBM model file" in bad.stderr


def test_token_from_the_environment_is_required(tmp_path: Path,
                                                  data: tuple[np.ndarray, np.ndarray]) -> None:
    features, labels = data
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(features, labels), 10)
    booster.save_model(str(tmp_path / "model.txt"))
    body = {"inputs": [{"name": "input-0", "shape": [1, 5], "datatype": "FP64", "data": features[0].tolist()}]}
    with serving("--import", str(tmp_path / "model.txt"), "--flavor", "lightgbm", "--name", "m",
                 token="t0ken") as url:
        refused = httpx.post(f"{url}/v2/models/m/infer", json=body, timeout=10)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert httpx.get(f"{url}/v2/models/m", timeout=10).status_code == 401
        ok = httpx.post(f"{url}/v2/models/m/infer", json=body, headers={"Authorization": "Bearer t0ken"}, timeout=10)
        assert ok.status_code == 200
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 200
        served_by = httpx.get(f"{url}/nothing", timeout=10)
        assert served_by.status_code == 404 and served_by.json() == {"error": "Nothing at /nothing."}


def test_uvicorn_server_is_still_available(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    features, labels = data
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(features, labels), 10)
    booster.save_model(str(tmp_path / "model.txt"))
    with serving("--import", str(tmp_path / "model.txt"), "--flavor", "lightgbm", "--name", "m",
                 "--http", "uvicorn") as url:
        answer = _infer(url, "m", features[:2])
    np.testing.assert_allclose(np.asarray(answer["outputs"][0]["data"]).reshape(2, 2)[:, 1],
                               booster.predict(features[:2]), rtol=1e-9)
