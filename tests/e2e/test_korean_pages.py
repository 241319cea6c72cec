"""Every main page of the demo project, rendered in Korean, has no English UI text left: each text node and
labelling attribute is checked after removing the user's own data (names, columns, descriptions from the API) and
an allow-list of product names, protocols, units and identifiers that stay as they are in Korean UIs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx

from tests.e2e.conftest import DemoServer

# Names and notations that Korean software shows untranslated: products, protocols, formats, units, engines,
# metric identifiers (they are API and CLI names too) and file kinds.
ALLOWED = {
    "mlpilot", "API", "URL", "HTTP", "HTTPS", "JSON", "CSV", "TSV", "HTML", "PDF", "DOCX", "HWPX", "ONNX", "LightGBM",
    "XGBoost", "scikit", "learn", "Parquet", "Excel", "gzip", "Delta", "Lake", "SHA", "UTF", "BOM", "CP", "EUC",
    "KR", "UTC", "USD", "KRW", "ms", "MiB", "GiB", "KiB", "Open", "Inference", "Protocol", "V2", "SHAP", "PSI",
    "ROC", "AUC", "OIP", "curl", "POST", "GET", "Authorization", "Bearer", "English", "lightgbm", "flaml",
    "autogluon", "xgboost", "sklearn", "http", "python", "numpy", "polars", "csv", "tsv", "parquet", "xlsx", "jsonl",
    "json", "joblib", "pkl", "txt", "ubj", "onnx", "accuracy", "rmse", "mae", "ece", "auc", "requests", "errors",
    "mlpilot_lang", "Int64", "Float64", "String", "Boolean", "Date", "Datetime", "Wasserstein", "KS", "Chi",
    "Jensen", "Shannon", "p50", "p95", "p99", "Chart", "js", "Ray", "S3", "SQL", "TOKEN", "FILE", "NAME",
    "monitor", "feedback", "alerts", "add", "alert", "fired", "id", "Δ", "vendor", "api", "example", "com",
    "engine", "predict", "score", "records", "instances", "columns", "inputs", "age", "income", "no", "yes",
    "scoring", "EN", "KO", "AI", "ASCII", "MB", "KB", "GB", "CLI", "CRM", "KPI",
}
SKIPPED_TAGS = {"script", "style", "code", "pre", "textarea", "option"}
LABEL_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class _Texts(HTMLParser):
    """The visible text nodes and labelling attributes of a page, outside code, scripts and select options."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.depth += 1
        self.texts += [value for name, value in attrs if name in LABEL_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.depth = max(0, self.depth - 1)

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.texts.append(data.strip())


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def english_left(html: str, data: set[str]) -> list[str]:
    """Return the texts of `html` that still hold an English word once user data and allowed tokens are removed."""
    parser = _Texts()
    parser.feed(html)
    found = []
    ordered = sorted((d.strip() for d in data if len(d.strip()) >= 2), key=len, reverse=True)
    for text in parser.texts:
        # Quoted commands, URL paths and URLs are code, whatever the language.
        rest = re.sub(r"'[^']*'|https?://\S+|(?<!\w)/[\w/{}.-]+", " ", text)
        for value in ordered:
            if value in rest:
                rest = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", " ", rest)
        words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", rest)
        if any(w not in ALLOWED and not re.search(r"[0-9_]", w) and len(w) > 1 for w in words):
            found.append(text)
    return found


def _user_data(api: httpx.Client, project_id: int) -> set[str]:
    """Every string the user (or the demo, as a user) typed or uploaded: names, columns, descriptions, reasons."""
    # Other tests share the demo server: the project list shows their projects (names, clients) too.
    urls = ["/api/v1/projects", f"/api/v1/projects/{project_id}", f"/api/v1/projects/{project_id}/datasets",
            f"/api/v1/projects/{project_id}/runs", f"/api/v1/projects/{project_id}/model-versions",
            f"/api/v1/projects/{project_id}/members", "/api/v1/services", "/api/v1/me"]
    data: set[str] = set()
    for url in urls:
        response = api.get(url)
        if response.status_code == 200:
            data.update(_strings(response.json()))
    for dataset in api.get(f"/api/v1/projects/{project_id}/datasets").json():
        data.update(_strings(api.get(f"/api/v1/datasets/{dataset['id']}").json()))
    for url in [f"/api/v1/projects/{project_id}/milestones", f"/api/v1/projects/{project_id}/tasks",
                f"/api/v1/projects/{project_id}/experiments", f"/api/v1/projects/{project_id}/reports",
                f"/api/v1/projects/{project_id}/baselines", f"/api/v1/projects/{project_id}/meetings",
                f"/api/v1/projects/{project_id}/client-requests", f"/api/v1/projects/{project_id}/deliverables",
                f"/api/v1/projects/{project_id}/emails"]:
        response = api.get(url)
        if response.status_code == 200:
            data.update(_strings(response.json()))
    for service in api.get("/api/v1/services").json():
        for url in (f"/api/v1/services/{service['name']}", f"/api/v1/services/{service['name']}/audit",
                    f"/api/v1/services/{service['name']}/backends"):
            response = api.get(url)
            if response.status_code == 200:
                data.update(_strings(response.json()))
    return data


def test_the_check_finds_english_and_spares_data_and_code() -> None:
    page = ("<p>업로드</p><p>Upload data</p><td>total day minutes</td><code>mlpilot up</code>"
            "<input placeholder='Search runs'><p>float64 · roc_auc · CSV · 'mlpilot monitor feedback FILE'</p>")
    assert english_left(page, {"total day minutes"}) == ["Upload data", "Search runs"]


def test_main_pages_in_korean_have_no_english_ui_text(demo_server: DemoServer) -> None:
    api = demo_server.api()
    project = next(p for p in api.get("/api/v1/projects").json() if p["name"] == "Customer churn")
    pid = project["id"]
    data = _user_data(api, pid)
    browser = httpx.Client(base_url=demo_server.url, timeout=60, follow_redirects=True)
    browser.post("/login", data={"username": "admin", "password": demo_server.password})
    browser.cookies.set("mlpilot_lang", "ko")
    # The workspace: the overview and one page per lifecycle stage, each loading its sections.
    stage_pages = [f"/projects/{pid}", *sorted(set(re.findall(rf'href="(/projects/{pid}/[a-z]+)" data-stage=',
                                                              browser.get(f"/projects/{pid}").text)))]
    assert len(stage_pages) >= 7, stage_pages
    sections = sorted({s for url in stage_pages
                       for s in re.findall(rf'hx-get="(/projects/{pid}/_section/[a-z_-]+)"', browser.get(url).text)})
    assert len(sections) >= 5, sections
    version = api.get(f"/api/v1/projects/{pid}/datasets").json()[0]
    version_id = api.get(f"/api/v1/datasets/{version['id']}").json()["versions"][0]["id"]
    run_ids = [r["id"] for r in api.get(f"/api/v1/projects/{pid}/runs").json()]
    model_id = api.get(f"/api/v1/projects/{pid}/model-versions").json()[0]["id"]
    service = api.get("/api/v1/services").json()[0]["name"]
    pages = ["/projects", *stage_pages, *sections, f"/dataset-versions/{version_id}", f"/runs/{run_ids[0]}",
             f"/model-versions/{model_id}", f"/services/{service}", f"/services/{service}/outcomes",
             f"/projects/{pid}/archive", "/monitoring", f"/projects/{pid}/communication",
             f"/projects/{pid}/deliverables"]
    if len(run_ids) > 1:
        pages.append(f"/runs/compare?ids={run_ids[0]},{run_ids[1]}")
    problems = {}
    for page in pages:
        response = browser.get(page)
        assert response.status_code == 200, (page, response.status_code)
        assert 'lang="ko"' in response.text or page.startswith(f"/projects/{pid}/_section"), page
        left = english_left(response.text, data)
        if left:
            problems[page] = left
    assert not problems, f"English UI text on Korean pages: {problems}"
