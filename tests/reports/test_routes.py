"""Status reports over the real app: the render job, downloads and the reports section."""

from __future__ import annotations

import io

import pytest
import weasyprint
from fastapi.testclient import TestClient
from pypdf import PdfReader

from mlpilot.core import jobs
from mlpilot.core.documents import format_number
from mlpilot.usecases.screening import QUESTION_KEYS
from tests.datasets.factories import csv_bytes, synthetic_frame, upload_ok, wait_job
from tests.projects.factories import api_project, login


def render(client: TestClient, project_id: int, locale: str = "en") -> dict:
    started = client.post(f"/api/v1/projects/{project_id}/reports", json={"locale": locale})
    assert started.status_code == 202, started.text
    job = jobs.wait_for_job(client.app.state.runtime, started.json()["job_id"], timeout=120)
    return client.get(f"/api/v1/jobs/{job.id}").json()


def test_render_job_and_downloads(client: TestClient) -> None:
    project = api_project(client, name="Churn Pilot")
    client.post(f"/api/v1/projects/{project['id']}/screenings", json={"answers": {k: "yes" for k in QUESTION_KEYS}})
    job = render(client, project["id"])
    assert job["state"] == "succeeded", job
    report_id = job["result"]["report_id"]
    listed = client.get(f"/api/v1/projects/{project['id']}/reports").json()
    assert [r["id"] for r in listed] == [report_id] and listed[0]["job_id"] == job["id"]
    assert client.get(f"/api/v1/reports/{report_id}").json()["locale"] == "en"

    pdf = client.get(f"/api/v1/reports/{report_id}/download", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert 'filename="Churn-Pilot-status-' in pdf.headers["content-disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Churn Pilot" in text and "12 / 12" in text
    html = client.get(f"/api/v1/reports/{report_id}/download", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "ACME Telecom" in html.text
    assert client.get(f"/api/v1/reports/{report_id}/download", params={"format": "exe"}).status_code == 422


def test_unknown_project_and_bad_locale(client: TestClient) -> None:
    missing = client.post("/api/v1/projects/9999/reports", json={"locale": "en"})
    assert missing.status_code == 404 and "9999" in missing.json()["detail"]
    project = api_project(client)
    assert client.post(f"/api/v1/projects/{project['id']}/reports", json={"locale": "fr"}).status_code == 422
    assert client.get("/api/v1/reports/9999").status_code == 404


def test_failed_job_leaves_no_report(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    project = api_project(client)

    def broken_pdf(self, *args, **kwargs):
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken_pdf)
    job = render(client, project["id"])
    assert job["state"] == "failed" and "no fonts today" in job["error"]
    assert client.get(f"/api/v1/projects/{project['id']}/reports").json() == []
    login(client)
    section = client.get(f"/projects/{project['id']}/_section/reports")
    assert "could not be rendered" in section.text


def test_reports_section_renders_and_starts_a_job(client: TestClient) -> None:
    project = api_project(client)
    login(client)
    url = f"/projects/{project['id']}/_section/reports"
    empty = client.get(url)
    assert empty.status_code == 200 and "No reports yet" in empty.text and "Render document" in empty.text
    started = client.post(url, data={"locale": "ko"})
    assert started.status_code == 200
    latest = client.get("/api/v1/jobs", params={"project_id": project["id"]}).json()[0]
    jobs.wait_for_job(client.app.state.runtime, latest["id"], timeout=120)
    done = client.get(url)
    assert "/download?format=pdf" in done.text and "한국어" in done.text
    client.cookies.set("mlpilot_lang", "ko")
    assert client.get(url).status_code == 200


def test_report_carries_live_dataset_and_model_evidence(client: TestClient) -> None:
    project = api_project(client, name="Live Evidence")
    pid = project["id"]
    version = upload_ok(client, pid, name="synthetic", filename="synthetic.csv",
                        data=csv_bytes(synthetic_frame("binary")))["version"]
    started = client.post(f"/api/v1/projects/{pid}/runs", json={"time_budget_s": 3, "dataset_version_id": version["id"],
                                                                "target": "y", "task": "binary"})
    assert started.status_code == 202, started.text
    assert wait_job(client, started.json()["job_id"])["state"] == "succeeded"
    best = client.get(f"/api/v1/projects/{pid}/leaderboard").json()[0]

    job = render(client, pid)
    assert job["state"] == "succeeded", job
    report_id = job["result"]["report_id"]
    html = client.get(f"/api/v1/reports/{report_id}/download", params={"format": "html"}).text
    assert "synthetic" in html and "240" in html and best["metric_name"] in html
    pdf = client.get(f"/api/v1/reports/{report_id}/download", params={"format": "pdf"}).content
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Live Evidence" in text and format_number(best["metric_value"]) in text
