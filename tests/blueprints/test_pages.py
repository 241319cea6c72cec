"""The marketplace page in English and Korean: cards, search and filters, import by upload, bad files refused."""

from __future__ import annotations

import yaml
from fastapi.testclient import TestClient

from mlpilot.blueprints.catalog import builtin_blueprints
from tests.projects.factories import login


def test_marketplace_renders_in_english_and_korean(shared_client: TestClient) -> None:
    login(shared_client)
    try:
        page = shared_client.get("/blueprints")
        assert page.status_code == 200
        assert "Blueprint marketplace" in page.text and page.text.count('data-testid="blueprint-card"') == len(
            builtin_blueprints())
        assert "Telecom churn scoring" in page.text and "Instantiate" in page.text
        shared_client.cookies.set("mlpilot_lang", "ko")
        korean = shared_client.get("/blueprints")
        assert korean.status_code == 200
        assert "블루프린트 마켓플레이스" in korean.text and "통신 고객 이탈 예측" in korean.text
        assert "Telecom churn scoring" not in korean.text
        searched = shared_client.get("/blueprints", params={"q": "이탈"})
        assert searched.text.count('data-testid="blueprint-card"') == 1
        shared_client.cookies.set("mlpilot_lang", "en")
        regression = shared_client.get("/blueprints", params={"task": "regression"})
        names = [n for n, s in builtin_blueprints().items() if s.training.task == "regression"]
        assert regression.text.count('data-testid="blueprint-card"') == len(names)
        assert all(f'id="bp-{n}"' in regression.text for n in names)
        empty = shared_client.get("/blueprints", params={"q": "nothing-matches-this"})
        assert "No blueprint matches" in empty.text
        assert shared_client.get("/blueprints", params={"origin": "x" * 30}).status_code == 422
    finally:
        shared_client.cookies.clear()


def test_import_by_upload_and_bad_files(shared_client: TestClient) -> None:
    doc = builtin_blueprints()["churn-binary"].model_dump(mode="json", exclude_none=True)
    doc["name"] = "uploaded-churn"
    login(shared_client)
    try:
        made = shared_client.post("/blueprints/import", files={"file": ("b.yaml", yaml.safe_dump(doc), "text/yaml")},
                                  follow_redirects=False)
        assert made.status_code == 303 and "notice=uploaded-churn" in made.headers["location"]
        page = shared_client.get("/blueprints", params={"origin": "imported"})
        assert 'id="bp-uploaded-churn"' in page.text
    finally:
        shared_client.cookies.clear()
    doc["training"]["engine"] = "no-engine"
    doc["name"] = "bad-engine"
    bad = shared_client.post("/api/v1/blueprints/import", files={"file": ("b.yaml", yaml.safe_dump(doc))})
    assert bad.status_code == 422 and "training.engine: unknown engine 'no-engine'" in bad.json()["detail"]
    newer = shared_client.post("/api/v1/blueprints/import",
                               files={"file": ("b.yaml", yaml.safe_dump({**doc, "schema_version": 9}))})
    assert newer.status_code == 422 and "schema_version: 9 is newer" in newer.json()["detail"]
    huge = shared_client.post("/api/v1/blueprints/import", files={"file": ("b.yaml", "x" * (600 * 1024))})
    assert huge.status_code == 413
    clash = shared_client.post("/api/v1/blueprints/import",
                               files={"file": ("b.yaml", yaml.safe_dump({**doc, "name": "churn-binary",
                                                                          "training": {**doc["training"],
                                                                                       "engine": "lightgbm"}}))})
    assert clash.status_code == 409 and "built-in" in clash.json()["detail"]
    assert shared_client.get("/api/v1/blueprints/" + "x" * 101).status_code == 422
    assert shared_client.get("/api/v1/blueprints/nope").status_code == 404
    assert shared_client.post("/api/v1/blueprints/churn-binary/instantiate",
                              json={"project_name": ""}).status_code == 422
    assert shared_client.delete("/api/v1/blueprints/churn-binary").status_code == 422
    assert shared_client.delete("/api/v1/blueprints/uploaded-churn").status_code == 204
    assert shared_client.get("/api/v1/blueprints/uploaded-churn").status_code == 404
    listed = shared_client.get("/api/v1/blueprints", params={"q": "failure", "locale": "ko"}).json()
    assert [b["name"] for b in listed] == ["equipment-failure-binary"] and listed[0]["title"] == "7일 내 설비 고장 예측"


def test_a_go_screening_offers_the_use_cases_blueprint(shared_client: TestClient) -> None:
    pid = shared_client.post("/api/v1/projects", json={"name": "Screened churn",
                                                       "usecase_key": "churn-prediction"}).json()["id"]
    answers = {key: {"answer": "yes", "note": ""} for key in (
        "important", "real_problem", "unused_data", "needs_ml", "single_unit", "operable")}
    screened = shared_client.post(f"/api/v1/projects/{pid}/screenings", json={"answers": answers})
    assert screened.status_code == 201, screened.text
    login(shared_client)
    try:
        section = shared_client.get(f"/projects/{pid}/_section/screening")
        assert 'data-testid="go-blueprint"' in section.text
        assert 'action="/blueprints/churn-binary/instantiate"' in section.text
        started = shared_client.post("/blueprints/churn-binary/instantiate", data={"project_name": ""},
                                     follow_redirects=False)
        assert started.status_code == 303 and "error=" in started.headers["location"]
    finally:
        shared_client.cookies.clear()
