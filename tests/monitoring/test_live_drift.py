"""Live drift wired end to end: the data plane samples served traffic, drift is measured against the training
reference saved with the model, shown on the monitoring screen, and a drift alert reaches an inbox over SMTP."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from mlpilot.dataplane.telemetry import PREDICTION_COLUMN, TrafficSample
from mlpilot.registry.flavors import REFERENCE_FILE, Prediction, load_model, write_reference
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings
from tests.dataplane.factories import churn_frame, make_churn_model
from tests.notifications.test_notifications import Inbox, free_port
from tests.projects.factories import api_project, login
from tests.serving.factories import deploy, make_model_version

FEATURES = ["tenure", "charges", "plan", "paperless"]


def test_traffic_sample_is_bounded_per_window_and_copies_only_sampled_rows() -> None:
    sample = TrafficSample(requests_per_window=50, window_s=60, windows=2, rows_per_request=3, seed=1)
    columns = {"x": np.arange(10, dtype=np.float64), "c": np.array(["a"] * 10, dtype=object)}
    labels = Prediction(probabilities=None, labels=["yes"] * 10, values=None)
    for _ in range(1000):
        sample.add("svc", columns, labels, 10, now=1_000_020.0)
    sample.add("svc", columns, labels, 10, now=1_000_100.0)  # a second window
    sample.add("svc", columns, labels, 10, now=1_000_200.0)  # a third: the first falls out
    windows = sample.windows("svc")
    assert [seen for _, seen, _ in windows] == [1, 1]
    sample2 = TrafficSample(requests_per_window=50, window_s=60, windows=2, rows_per_request=3, seed=1)
    for _ in range(1000):
        sample2.add("svc", columns, labels, 10, now=1_000_020.0)
    [(start, seen, merged)] = sample2.windows("svc")
    assert seen == 1000 and start.timestamp() == 1_000_020.0 // 60 * 60
    # 50 requests kept, 3 rows each, with the answer attached.
    assert len(merged["x"]) == 150 and merged["x"][:3] == [0.0, 1.0, 2.0]
    assert set(merged[PREDICTION_COLUMN]) == {"yes"} and sample2.services() == ["svc"]
    sample2.add("svc", columns, labels, 0)  # an empty request is not traffic
    assert sample2.windows("svc")[0][1] == 1000


def test_model_folder_reference_is_found_by_the_data_plane(tmp_path: Path) -> None:
    model_dir = make_churn_model(tmp_path / "m")
    model = load_model(model_dir)
    frame = churn_frame(rows=8000).drop("churn")
    write_reference(model_dir, frame, model.predict(frame))
    reference = pl.read_parquet(model_dir / REFERENCE_FILE)
    assert reference.height == 5000 and set(reference.columns) == {*FEATURES, PREDICTION_COLUMN}
    assert set(reference[PREDICTION_COLUMN].unique()) <= {"yes", "no"}


def normal_records(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    return [{"tenure": float(rng.integers(1, 60)), "charges": float(rng.normal(50, 15)),
             "plan": str(rng.choice(["basic", "pro", "team"])), "paperless": bool(rng.random() > 0.5)}
            for _ in range(n)]


def drifted_records(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    # Long-tenure, expensive customers, all on one plan: three of four features move.
    return [{"tenure": float(rng.integers(80, 120)), "charges": float(rng.normal(120, 10)),
             "plan": "team", "paperless": bool(rng.random() > 0.5)} for _ in range(n)]


@pytest.fixture
def drift_server(tmp_path: Path, dialect: str, databases: DatabaseFactory) -> Iterator[tuple[TestClient, str, int]]:
    """The real app with a background alert evaluator and notifier, served over HTTP, and an SMTP port."""
    from mlpilot.app import create_app

    smtp_port = free_port()
    settings = make_settings(
        tmp_path, databases.new_url(dialect),
        serving={"drift_sample_requests": 400, "drift_rows_per_request": 10},
        notifications={"enabled": True, "interval_s": 0.2, "alert_interval_s": 0.3, "max_attempts": 5,
                       "retry_base_delay_s": 0, "timeout_s": 5, "smtp_host": "127.0.0.1",
                       "smtp_port": smtp_port, "smtp_from": "mlpilot@example.com"})
    app = create_app(settings)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            thread.join(0.05)
        yield client, f"http://127.0.0.1:{port}", smtp_port
        server.should_exit = True
        thread.join(10)


def test_drift_injected_into_traffic_fires_an_alert_that_arrives_by_email(
        drift_server: tuple[TestClient, str, int], tmp_path: Path) -> None:
    client, url, smtp_port = drift_server
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        # A model folder as training leaves it: with its reference sample of the training data.
        model_dir = make_churn_model(tmp_path / "churn")
        training = churn_frame(rows=3000, seed=5).drop("churn")
        write_reference(model_dir, training, load_model(model_dir).predict(training))
        project = api_project(client)
        runtime = client.app.state.runtime
        version_id = make_model_version(runtime, project_id=project["id"], model_dir=model_dir)
        deploy(client, project_id=project["id"], name="churn", model_version_id=version_id)

        # Before any traffic: a clear empty state, on the API and on the screen.
        empty = client.get("/api/v1/monitoring/services/churn/drift").json()
        assert empty["windows"] == [] and empty["latest"] is None and empty["reference"] == "training"
        login(client)
        assert "No traffic sampled yet" in client.get("/monitoring").text

        rng = np.random.default_rng(7)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            for _ in range(30):
                answer = http.post("/api/v1/services/churn/predict", json={"records": normal_records(rng, 10)})
                assert answer.status_code == 200, answer.text
            calm = http.get("/api/v1/monitoring/services/churn/drift").json()
            assert calm["latest"]["sampled"] == 300 and calm["latest"]["drift"] is False, calm["latest"]["columns"]
            assert calm["latest"]["share_drifted"] < 0.3, calm["latest"]["columns"]

            rule = http.post("/api/v1/monitoring/alert-rules", json={
                "name": "inputs drifted", "service": "churn", "metric": "drift_share", "op": ">",
                "threshold": 0.3, "window_minutes": 60, "cooldown_minutes": 60})
            assert rule.status_code == 201, rule.text
            subscription = http.post("/api/v1/notifications/subscriptions", json={
                "name": "on-call", "channel": "email", "target": "oncall@example.com", "events": ["alert.fired"]})
            assert subscription.status_code == 201, subscription.text

            for _ in range(300):
                answer = http.post("/api/v1/services/churn/predict", json={"records": drifted_records(rng, 10)})
                assert answer.status_code == 200, answer.text

            drift = http.get("/api/v1/monitoring/services/churn/drift").json()
            latest = drift["latest"]
            assert latest["drift"] is True and latest["seen"] == 330 and latest["sampled"] == 3300
            assert {"tenure", "charges", "plan"} <= set(latest["drifted_columns"])
            assert latest["share_drifted"] >= 0.75 and latest["columns"]["tenure"]["method"]

        deadline = time.monotonic() + 30
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        [message] = inbox.messages
        text = message.content.decode()
        assert message.rcpt_tos == ["oncall@example.com"]
        assert "Subject: [mlpilot] inputs drifted: drift_share" in text and "on churn" in text
        assert "drifted_columns:" in text and "tenure" in text and "charges" in text

        page = client.get("/monitoring").text
        assert "Live drift" in page and "Drift detected" in page and "tenure" in page
        events = client.get("/api/v1/monitoring/alerts").json()
        assert [e["metric"] for e in events] == ["drift_share"]
    finally:
        controller.stop()


def test_drift_rules_and_unknown_services_are_clear(client: TestClient) -> None:
    bad = client.post("/api/v1/monitoring/alert-rules", json={
        "name": "x", "service": "churn", "metric": "drift", "threshold": 0.3})
    assert bad.status_code == 422 and "drift_share" in bad.text
    assert client.get("/api/v1/monitoring/services/nope/drift").status_code == 404


def test_training_saves_the_drift_reference_next_to_the_model(tmp_path: Path) -> None:
    from mlpilot.training.fitting import _save_drift_reference

    class Engine:
        classes_ = ["no", "yes"]

        def predict(self, frame: pl.DataFrame) -> np.ndarray:
            return np.where(frame["tenure"].to_numpy() < 20, "yes", "no")

    notes: list[str] = []
    frame = churn_frame(rows=200)
    _save_drift_reference(Engine(), frame, tmp_path, target="churn", note=notes.append)
    reference = pl.read_parquet(tmp_path / REFERENCE_FILE)
    assert reference.height == 200 and "churn" not in reference.columns and notes == []
    assert reference[PREDICTION_COLUMN].to_list()[:3] == Engine().predict(frame.head(3)).tolist()
    # An engine that cannot predict costs only the reference, with a note saying so.
    _save_drift_reference(object(), frame, tmp_path / "missing", target="churn", note=notes.append)
    assert notes and "no live-drift reference" in notes[0]
    shutil.rmtree(tmp_path / "missing", ignore_errors=True)
