"""The catalog and screening API and pages over the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mlpilot.usecases.screening import QUESTION_KEYS
from tests.projects.factories import api_project, login

ALL_YES = {key: {"answer": "yes", "note": ""} for key in QUESTION_KEYS}


def test_catalog_api_filters(client: TestClient) -> None:
    everything = client.get("/api/v1/usecases").json()
    assert len(everything) == 12 and {"key", "name_ko", "kpis"} <= set(everything[0])
    retail = client.get("/api/v1/usecases", params={"industry": "Retail", "task": "regression"}).json()
    assert {u["key"] for u in retail} == {"demand-forecasting", "price-optimisation"}
    one = client.get("/api/v1/usecases/churn-prediction")
    assert one.status_code == 200 and one.json()["name_ko"] == "고객 이탈 예측"
    missing = client.get("/api/v1/usecases/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    questions = client.get("/api/v1/usecases/screening-questions").json()
    assert [q["key"] for q in questions] == list(QUESTION_KEYS)


def test_screening_api_roundtrip_and_bad_input(client: TestClient) -> None:
    project = api_project(client)
    url = f"/api/v1/projects/{project['id']}/screenings"
    assert client.get(f"{url}/current").status_code == 404
    bad = client.post(url, json={"answers": {**ALL_YES, "vibes": "yes"}})
    assert bad.status_code == 422 and "vibes" in bad.json()["detail"]
    invalid = client.post(url, json={"answers": {**ALL_YES, "needs_ml": "perhaps"}})
    assert invalid.status_code == 422 and "needs_ml" in invalid.json()["detail"]
    assert client.get(url).json() == []
    made = client.post(url, json={"answers": {**ALL_YES, "unused_data": "partly"}})
    assert made.status_code == 201, made.text
    assert made.json()["score"] == 11 and made.json()["decision"] == "go"
    current = client.get(f"{url}/current").json()
    assert current["id"] == made.json()["id"]
    assert client.post("/api/v1/projects/99999/screenings", json={"answers": ALL_YES}).status_code == 404


def test_catalog_page_and_screening_fragment(client: TestClient) -> None:
    project = api_project(client)
    login(client)
    page = client.get("/usecases", params={"industry": "Manufacturing"})
    assert page.status_code == 200
    assert "Predictive maintenance" in page.text and "Churn prediction" not in page.text
    assert "/projects?usecase=predictive-maintenance" in page.text
    client.cookies.set("mlpilot_lang", "ko")
    korean = client.get("/usecases")
    assert korean.status_code == 200 and "고객 이탈 예측" in korean.text
    client.cookies.set("mlpilot_lang", "en")

    fragment_url = f"/projects/{project['id']}/_section/screening"
    empty = client.get(fragment_url)
    assert empty.status_code == 200 and "Not screened yet" in empty.text and "<html" not in empty.text
    form = {f"answer_{key}": "yes" for key in QUESTION_KEYS} | {"answer_needs_ml": "no", "note_needs_ml": "rules"}
    answered = client.post(fragment_url, data=form)
    assert answered.status_code == 200
    assert "10 / 12" in answered.text and "No-go" in answered.text
    missing = client.post(fragment_url, data={"answer_important": "yes"})
    assert "is not answered" in missing.text
    assert len(client.get(f"/api/v1/projects/{project['id']}/screenings").json()) == 1
