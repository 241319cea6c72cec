"""PMO documents over the real app: every kind × format × language from one live project with a trained model,
a schedule with a baseline, a risk, a service with traffic and a KPI; Korean documents without English; a render
that fails halfway; admins' templates; access of another project's member."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
from docx import Document as DocxDocument
from fastapi.testclient import TestClient
from pypdf import PdfReader

from mlpilot.core import jobs
from mlpilot.core.documents import format_number
from mlpilot.reports.blocks import Block
from mlpilot.reports.sections import SECTIONS, SectionContext
from mlpilot.usecases.screening import QUESTION_KEYS
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings
from tests.datasets.factories import csv_bytes, synthetic_frame, upload_ok, wait_job
from tests.e2e.test_korean_pages import english_left
from tests.projects.factories import login
from tests.value.factories import add_service, add_traffic

KINDS = ("plan", "status", "interim", "final")
LANGS = ("en", "ko")
FORMATS = ("pdf", "docx", "hwpx")
RISK = "Annotators disagree on churn labels"


def render(client: TestClient, pid: int, kind: str, lang: str, **headers: str) -> dict[str, Any]:
    started = client.post(f"/api/v1/projects/{pid}/reports", json={"kind": kind, "locale": lang}, headers=headers)
    assert started.status_code == 202, started.text
    job = jobs.wait_for_job(client.app.state.runtime, started.json()["job_id"], timeout=180)
    return client.get(f"/api/v1/jobs/{job.id}").json()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory) -> Iterator[dict[str, Any]]:
    from mlpilot.app import create_app

    tmp = tmp_path_factory.mktemp("documents")
    with TestClient(create_app(make_settings(tmp, databases.new_url("sqlite")))) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        runtime = client.app.state.runtime
        pid = client.post("/api/v1/projects", json={"name": "Docs Pilot", "client": "ACME Telecom",
                                                    "usecase_key": "churn-prediction"}).json()["id"]
        base = f"/api/v1/projects/{pid}"
        client.post(f"{base}/screenings", json={"answers": dict.fromkeys(QUESTION_KEYS, "yes")})
        version = upload_ok(client, pid, name="customers", filename="customers.csv",
                            data=csv_bytes(synthetic_frame("binary")))["version"]
        run = client.post(f"{base}/runs", json={"time_budget_s": 3, "dataset_version_id": version["id"],
                                                "target": "y", "task": "binary"})
        assert wait_job(client, run.json()["job_id"])["state"] == "succeeded"
        best = client.get(f"{base}/leaderboard").json()[0]
        models = [m for m in client.get(f"{base}/model-versions").json() if m["run_id"] == best["run_id"]]
        today = dt.date.today()
        ids = [client.post(f"{base}/tasks", json={"title": t, "start_date": str(today + dt.timedelta(days=s)),
                                                   "due_date": str(today + dt.timedelta(days=e))}).json()["id"]
               for t, s, e in (("Collect data", -10, -3), ("Train model", -2, 6), ("Write slides", 0, 2))]
        client.post(f"{base}/dependencies", json={"predecessor_id": ids[0], "successor_id": ids[1]})
        assert client.post(f"{base}/baselines", json={"name": "Kick-off"}).status_code == 201
        client.patch(f"{base}/tasks/{ids[1]}", json={"due_date": str(today + dt.timedelta(days=9))})
        client.post(f"{base}/milestones", json={"name": "Interim review", "start_date": str(today - dt.timedelta(10)),
                                                "due_date": str(today + dt.timedelta(days=12))})
        assert client.post(f"{base}/risks", json={"title": RISK, "probability": 4, "impact": 3,
                                                  "mitigation": "Adjudicate"}).status_code == 201
        client.put(f"{base}/risk-plan", json={"target_metric": best["metric_name"], "target_value": 0.99,
                                              "max_error_rate": 0.01, "max_latency_p95_ms": 100})
        add_service(runtime, project_id=pid, name="docs-svc")
        add_traffic(runtime, service="docs-svc", day=dt.datetime.now(dt.UTC).date(), requests=30)
        goal = client.post(f"{base}/value/nodes", json={"kind": "goal", "name_en": "Serve more",
                                                       "name_ko": "더 많이 처리"}).json()
        client.post(f"{base}/value/nodes", json={
            "kind": "kpi", "parent_id": goal["id"], "name_en": "Requests", "name_ko": "요청 수", "baseline": 0,
            "target": 100, "unit": "req", "value_per_unit": 1000, "source": "requests", "service_name": "docs-svc"})
        files: dict[tuple[str, str, str], bytes] = {}
        reports: dict[tuple[str, str], int] = {}
        for kind in KINDS:
            for lang in LANGS:
                job = render(client, pid, kind, lang)
                assert job["state"] == "succeeded", job
                reports[kind, lang] = job["result"]["report_id"]
                for fmt in (*FORMATS, "html"):
                    got = client.get(f"/api/v1/reports/{job['result']['report_id']}/download", params={"format": fmt})
                    assert got.status_code == 200, got.text
                    files[kind, lang, fmt] = got.content
        yield {"client": client, "pid": pid, "best": best, "models": models, "files": files, "reports": reports,
               "tmp": tmp}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> str:
    doc = DocxDocument(io.BytesIO(data))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def hwpx_text(data: bytes) -> tuple[str, list[str]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read("mimetype") == b"application/hwp+zip"
    texts = []
    for name in archive.namelist():
        if name.startswith("Contents/section") and name.endswith(".xml"):
            root = ElementTree.fromstring(archive.read(name))
            texts += [node.text for node in root.iter() if node.tag.endswith("}t") and node.text]
    ElementTree.fromstring(archive.read("Contents/header.xml"))
    return "\n".join(texts), [n for n in archive.namelist() if n.startswith("BinData/")]


def text_of(fmt: str, data: bytes) -> str:
    return pdf_text(data) if fmt == "pdf" else docx_text(data) if fmt == "docx" else hwpx_text(data)[0]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_kind_format_and_language_carries_the_figures(world: dict[str, Any], kind: str, lang: str,
                                                             fmt: str) -> None:
    data = world["files"][kind, lang, fmt]
    text = text_of(fmt, data)
    assert "Docs Pilot" in text and "ACME Telecom" in text
    assert RISK in text
    title = {"plan": ("Project plan", "수행계획서"), "status": ("Status report", "주간/월간 보고"),
             "interim": ("Interim report", "중간보고서"), "final": ("Final report", "완료보고서")}[kind]
    assert title[0 if lang == "en" else 1] in text
    if kind != "plan":  # the plan is written before any model: it has no model section
        best, models = world["best"], world["models"]
        assert format_number(best["metric_value"]) in text
        if models:
            assert f"{models[-1]['name']} v{models[-1]['version']}" in text
        assert "docs-svc" in text


def test_best_model_is_named_by_the_model_not_the_engine(world: dict[str, Any]) -> None:
    html = world["files"]["interim", "en", "html"].decode()
    best_row = html.split("Best model</td><td>", 1)[1].split("</td>", 1)[0]
    assert best_row != world["best"]["engine"] and best_row.strip() not in ("auto", "")
    assert "Algorithm</td><td>" in html


def test_charts_are_in_every_format(world: dict[str, Any]) -> None:
    files = world["files"]
    html = files["interim", "ko", "html"].decode()
    assert html.count("data:image/png;base64,") >= 3  # Gantt, forecast, leaderboard or value
    _, media = hwpx_text(files["interim", "ko", "hwpx"])
    assert len(media) >= 3 and all(name.endswith(".png") for name in media)
    assert len(DocxDocument(io.BytesIO(files["interim", "ko", "docx"])).inline_shapes) >= 3


def test_pdf_pages_are_never_blank(world: dict[str, Any]) -> None:
    for lang in LANGS:
        pages = PdfReader(io.BytesIO(world["files"]["status", lang, "pdf"])).pages
        assert all(page.extract_text().strip() for page in pages), [len(p.extract_text()) for p in pages]


@pytest.mark.parametrize("kind", KINDS)
def test_korean_documents_have_no_english(world: dict[str, Any], kind: str) -> None:
    client, pid = world["client"], world["pid"]
    data = {"Docs Pilot", "ACME Telecom", "customers", "docs-svc", RISK, "Adjudicate", "admin", "req", "y"}
    for run in client.get(f"/api/v1/projects/{pid}/runs").json():
        data |= {run["engine"], run["target"], *(run.get("metrics") or {})}
    data |= {t["title"] for t in client.get(f"/api/v1/projects/{pid}/tasks").json()}
    data |= {m["name"] for m in client.get(f"/api/v1/projects/{pid}/milestones").json()}
    data |= {b["name"] for b in client.get(f"/api/v1/projects/{pid}/baselines").json()}
    for model in world["models"]:
        data |= {model["name"]}
    for column in client.get(f"/api/v1/projects/{pid}/leaderboard").json():
        data |= {column["metric_name"], column["engine"], column["dataset"]}
    for version in client.get(f"/api/v1/projects/{pid}/datasets").json():
        data |= {version.get("name", "")}
    data |= {"binary", "f64", "i64", "str", "bool", "Float64", "Int64", "P50", "P85", "logloss", "catboost",
             "lightgbm", "xgboost", "sklearn", "extra_trees", "random_forest", "logistic", "ensemble", "hist_gbm",
             "linear", "knn", "PNG"}
    html = world["files"][kind, "ko", "html"].decode()
    data |= {word for word in _algorithm_words(html)}
    left = english_left(html, data)
    assert left == [], left


def _algorithm_words(html: str) -> set[str]:
    """The chosen algorithms are identifiers of libraries (like engine names): taken from the model rows."""
    marker = "<td>"
    words: set[str] = set()
    for part in html.split(marker)[1:]:
        cell = part.split("</td>", 1)[0]
        if " + " in cell or cell.replace("_", "").isalpha() and cell.islower():
            words |= {w.strip() for w in cell.split("+")}
    return words


def test_versions_count_per_kind_and_language(world: dict[str, Any]) -> None:
    client, pid = world["client"], world["pid"]
    listed = client.get(f"/api/v1/projects/{pid}/reports").json()
    assert {(r["kind"], r["locale"], r["version"]) for r in listed} >= {(k, lang, 1) for k in KINDS for lang in LANGS}
    download = client.get(f"/api/v1/reports/{world['reports']['interim', 'ko']}/download", params={"format": "hwpx"})
    assert "interim-v1" in download.headers["content-disposition"] and download.headers["content-type"] == \
        "application/hwp+zip"


def test_half_failed_render_lists_nothing_and_shows_the_error(world: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    client, pid = world["client"], world["pid"]

    def explode(ctx: SectionContext) -> list[Block]:
        raise RuntimeError("the appendix could not be computed")

    monkeypatch.setitem(SECTIONS, "appendix", explode)
    template = client.get("/api/v1/document-templates/final").json()["template"]
    template["sections"].insert(5, {"key": "appendix", "heading": {"en": "Appendix", "ko": "부록"}})
    assert client.put("/api/v1/document-templates/final", json=template).status_code == 200
    before = client.get(f"/api/v1/projects/{pid}/reports").json()
    stored = set(world_files(world))
    try:
        job = render(client, pid, "final", "ko")
    finally:
        assert client.delete("/api/v1/document-templates/final").json()["customized"] is False
    assert job["state"] == "failed" and "the appendix could not be computed" in job["error"]
    assert client.get(f"/api/v1/projects/{pid}/reports").json() == before
    assert set(world_files(world)) == stored
    page = TestClient(client.app)
    login(page)
    section = page.get(f"/projects/{pid}/_section/reports")
    assert section.status_code == 200 and "the appendix could not be computed" in section.text


def world_files(world: dict[str, Any]) -> list[str]:
    root = world["tmp"] / "data"
    return sorted(str(p) for p in root.rglob("report.*"))


def test_templates_refuse_unknown_placeholders_fields_and_sections(world: dict[str, Any]) -> None:
    client = world["client"]
    template = client.get("/api/v1/document-templates/status").json()["template"]
    bad = {**template, "title": {"en": "Report for {customer}", "ko": "{customer} 보고"}}
    answer = client.put("/api/v1/document-templates/status", json=bad)
    assert answer.status_code in (400, 422) and "{customer}" in answer.json()["detail"]
    assert "{project}" in answer.json()["detail"]
    extra = {**template, "colour": "blue"}
    assert "colour" in client.put("/api/v1/document-templates/status", json=extra).json()["detail"]
    unknown = {**template, "sections": [{"key": "horoscope", "heading": {"en": "H", "ko": "H"}}]}
    assert "horoscope" in client.put("/api/v1/document-templates/status", json=unknown).json()["detail"]
    assert client.put("/api/v1/document-templates/status", content=b"{not json").status_code in (400, 422)
    assert client.put("/api/v1/document-templates/memo", json=template).status_code == 422
    assert client.get("/api/v1/document-templates/status").json()["customized"] is False


def test_admin_template_changes_the_document(world: dict[str, Any]) -> None:
    client, pid = world["client"], world["pid"]
    template = client.get("/api/v1/document-templates/plan").json()["template"]
    template["title"] = {"en": "Delivery plan of {project} ({percent_done}% done)", "ko": "{project} 사업수행계획서"}
    template["sections"] = template["sections"][:2]
    assert client.put("/api/v1/document-templates/plan", json=template).json()["customized"] is True
    try:
        job = render(client, pid, "plan", "en")
        html = client.get(f"/api/v1/reports/{job['result']['report_id']}/download", params={"format": "html"}).text
        assert "Delivery plan of Docs Pilot (" in html and html.count("<section") == 2
    finally:
        client.delete("/api/v1/document-templates/plan")


def test_another_projects_member_and_non_admins_are_refused(world: dict[str, Any]) -> None:
    client, pid = world["client"], world["pid"]
    client.post("/api/v1/users", json={"username": "outsider", "password": "password-123", "role": "member"})
    other = client.post("/api/v1/projects", json={"name": "Other"}).json()["id"]
    client.post(f"/api/v1/projects/{other}/members", json={"username": "outsider"})
    signed = TestClient(client.app)
    assert signed.post("/login", data={"username": "outsider", "password": "password-123"},
                       follow_redirects=False).status_code == 303
    token = signed.post("/api/v1/tokens", json={"name": "t"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    report_id = world["reports"]["interim", "en"]
    for method, path in (("GET", f"/api/v1/reports/{report_id}"),
                         ("GET", f"/api/v1/reports/{report_id}/download?format=hwpx"),
                         ("GET", f"/api/v1/projects/{pid}/reports"),
                         ("PUT", "/api/v1/document-templates/status"),
                         ("DELETE", "/api/v1/document-templates/status")):
        answer = client.request(method, path, headers=headers, json={})
        assert answer.status_code in (403, 404), (method, path, answer.status_code)
    refused = client.post(f"/api/v1/projects/{pid}/reports", json={"kind": "final", "locale": "ko"}, headers=headers)
    assert refused.status_code in (403, 404)
    assert client.post(f"/api/v1/projects/{pid}/reports", json={"kind": "memo"}).status_code == 422
    assert client.get(f"/api/v1/reports/{report_id}/download", params={"format": "exe"}).status_code == 422


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_cli_contract(client: TestClient, live_server_url: str, tmp_path) -> None:
    from typer.testing import CliRunner

    from mlpilot.cli.main import app

    pid = client.post("/api/v1/projects", json={"name": "CLI Docs", "client": "ACME"}).json()["id"]
    client.post(f"/api/v1/projects/{pid}/risks", json={"title": RISK, "probability": 2, "impact": 2})
    out = tmp_path / "계획.hwpx"
    by_name = CliRunner().invoke(app, ["pmo", "document", "CLI Docs", "--kind", "plan", "--format", "hwpx",
                                       "--lang", "ko", "--out", str(out)])
    assert by_name.exit_code == 0, by_name.output
    assert "CLI Docs 수행계획서" in hwpx_text(out.read_bytes())[0] and RISK in hwpx_text(out.read_bytes())[0]
    docx = tmp_path / "status.docx"
    by_id = CliRunner().invoke(app, ["pmo", "document", str(pid), "--kind", "status", "--format", "docx",
                                     "--lang", "en", "--out", str(docx)])
    assert by_id.exit_code == 0, by_id.output
    assert "Status report: CLI Docs" in docx_text(docx.read_bytes())
    bad = CliRunner().invoke(app, ["pmo", "document", str(pid), "--kind", "memo", "--format", "pdf", "--lang", "en",
                                   "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 2 and not (tmp_path / "x.pdf").exists()
