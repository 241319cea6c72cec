"""The demo as a new user meets it: `mlpilot up --demo`, then inference, the project list and the report."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as triton
from pypdf import PdfReader

from tests.e2e.conftest import DemoServer

pytestmark = pytest.mark.e2e
CHURN = Path(__file__).resolve().parents[2] / "src" / "mlpilot" / "demo" / "churn.tsv.gz"


def _churn_rows(n: int) -> np.ndarray:
    with gzip.open(CHURN, "rt") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        keep = [i for i, name in enumerate(header) if name != "target"]
        rows = [[float(v) for i, v in enumerate(line.rstrip("\n").split("\t")) if i in keep]
                for _, line in zip(range(n), handle, strict=False)]
    return np.asarray(rows)


def test_inference_with_an_existing_oip_client_returns_probabilities(demo_server: DemoServer) -> None:
    client = triton.InferenceServerClient(url=demo_server.url.removeprefix("http://"))
    auth = {"Authorization": f"Bearer {demo_server.token}"}
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("churn", headers=auth)
    metadata = client.get_model_metadata("churn", headers=auth)
    assert metadata["name"] == "churn"
    rows = _churn_rows(5)
    tensor = triton.InferInput("input-0", list(rows.shape), "FP64")
    tensor.set_data_from_numpy(rows)
    result = client.infer("churn", inputs=[tensor], headers=auth)
    probabilities = result.as_numpy("probabilities")
    assert probabilities.shape == (5, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    client.close()


def test_demo_project_is_in_operate_stage_with_real_numbers(demo_server: DemoServer) -> None:
    with demo_server.api() as api:
        projects = api.get("/api/v1/projects").json()
        demo = next(p for p in projects if p["name"] == "Customer churn")
        assert demo["stage"] == "operate"
        board = api.get(f"/api/v1/projects/{demo['id']}/leaderboard").json()
        assert board and board[0]["metric_name"] == "roc_auc" and board[0]["metric_value"] > 0.8
        metrics = api.get("/api/v1/services/churn/metrics", params={"window": "24h"}).json()
        assert metrics["totals"]["requests"] >= 60


def test_status_report_pdf_names_project_metric_and_requests(demo_server: DemoServer) -> None:
    with demo_server.api() as api:
        demo = next(p for p in api.get("/api/v1/projects").json() if p["name"] == "Customer churn")
        reports = api.get(f"/api/v1/projects/{demo['id']}/reports").json()
        english = next(r for r in reports if r["locale"] == "en")
        response = api.get(f"/api/v1/reports/{english['id']}/download", params={"format": "pdf"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        assert "Customer churn" in text
        assert "roc_auc" in text.lower() or "roc auc" in text.lower()
        # The services table row: name, model version, state, requests (24 h), error rate, p95, objective, ...
        row = re.search(r"^churn .* deployed (\d+) ([\d.]+)% ", text, flags=re.MULTILINE)
        assert row is not None, text
        assert int(row.group(1)) >= 60 and float(row.group(2)) == 0.0


def test_demo_register_holds_a_risk_raised_from_evidence(demo_server: DemoServer) -> None:
    with demo_server.api() as api:
        demo = next(p for p in api.get("/api/v1/projects").json() if p["name"] == "Customer churn")
        risks = {r["source"]: r for r in api.get(f"/api/v1/projects/{demo['id']}/risks").json()}
        short = risks["data_rows_short"]
        assert "5,000 rows of the 10,000" in short["title"] and short["status"] == "open"
        assert short["evidence_url"].startswith("/dataset-versions/") and short["mitigation"]


def test_demo_shows_a_logged_meeting_and_a_deliverable_awaiting_the_client(demo_server: DemoServer) -> None:
    with demo_server.api() as api:
        demo = next(p for p in api.get("/api/v1/projects").json() if p["name"] == "Customer churn")
        base = f"/api/v1/projects/{demo['id']}"
        [meeting] = api.get(f"{base}/meetings").json()
        [item] = meeting["action_items"]
        task_ids = {t["id"] for t in api.get(f"{base}/tasks").json()}
        assert item["task_id"] in task_ids and meeting["decisions"]
        [deliverable] = api.get(f"{base}/deliverables").json()
        assert deliverable["status"] == "awaiting" and deliverable["kind"] == "model"
        assert deliverable["evidence_url"].startswith("/model-versions/")


def test_running_the_demo_again_duplicates_nothing(demo_server: DemoServer) -> None:
    from mlpilot.client import MlpilotClient
    from mlpilot.demo.seed import PROJECT_NAME, DemoBuilder

    def counts(api: MlpilotClient) -> dict[str, int]:
        demo = next(p for p in api.get("/api/v1/projects") if p["name"] == PROJECT_NAME)
        pid = demo["id"]
        return {
            "projects": [p["name"] for p in api.get("/api/v1/projects")].count(PROJECT_NAME),
            "datasets": len(api.get(f"/api/v1/projects/{pid}/datasets")),
            "runs": len(api.get(f"/api/v1/projects/{pid}/runs")),
            "models": len(api.get(f"/api/v1/projects/{pid}/model-versions")),
            "milestones": len(api.get(f"/api/v1/projects/{pid}/milestones")),
            "dependencies": len(api.get(f"/api/v1/projects/{pid}/dependencies")),
            "baselines": len(api.get(f"/api/v1/projects/{pid}/baselines")),
            "reports": len(api.get(f"/api/v1/projects/{pid}/reports")),
            "risks": len(api.get(f"/api/v1/projects/{pid}/risks")),
            "meetings": len(api.get(f"/api/v1/projects/{pid}/meetings")),
            "deliverables": len(api.get(f"/api/v1/projects/{pid}/deliverables")),
        }

    with MlpilotClient(demo_server.url, demo_server.token) as api:
        before = counts(api)
        DemoBuilder(api).run()
        assert counts(api) == before
        assert before["projects"] == 1 and before["runs"] == 1 and before["reports"] == 2
        assert before["dependencies"] == 4 and before["baselines"] == 1
