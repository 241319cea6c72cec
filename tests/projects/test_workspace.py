"""The project workspace: one page per lifecycle stage in both languages, and the next step from real states."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mlpilot.projects import workspace
from mlpilot.projects.workspace import ProjectState, Section, next_step, section_url
from tests.projects.factories import api_project, login


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_stage_has_its_own_page_in_both_languages(client: TestClient, lang: str) -> None:
    project = api_project(client)
    login(client)
    client.cookies.set("mlpilot_lang", lang)
    base = f"/projects/{project['id']}"
    expected_title = {"en": "Experiments", "ko": "실험"}[lang]
    for stage in workspace.WORKSPACE:
        page = client.get(stage.url(project["id"]))
        assert page.status_code == 200, stage.key
        assert f'lang="{lang}"' in page.text
        current = page.text.split('aria-current="page"')[0].rsplit("<a ", 1)[1]
        assert f'data-stage="{stage.key}"' in current, stage.key  # the nav says where the user is
        for section in stage.sections:
            assert f'id="section-{section.key}"' in page.text and section.fragment_url(project["id"]) in page.text
    assert expected_title in client.get(f"{base}/build").text
    assert client.get(f"{base}/_section/operations").status_code == 200
    assert client.get("/projects/9999/build").status_code == 404


def test_stage_pages_are_closed_to_non_members(client: TestClient) -> None:
    project = api_project(client)
    client.post("/api/v1/users", json={"username": "outsider", "password": "password-123"})
    login(client, username="outsider", password="password-123")
    for stage in workspace.WORKSPACE:
        assert client.get(stage.url(project["id"])).status_code in (403, 404), stage.key


def test_next_step_follows_the_lifecycle() -> None:
    steps = [
        (ProjectState(), "upload", "/projects/7/data#section-datasets"),
        (ProjectState(datasets=1), "train", "/projects/7/build#section-runs"),
        (ProjectState(datasets=1, runs=1, active_runs=1), "wait", "/projects/7/build#section-runs"),
        (ProjectState(datasets=1, runs=1, succeeded_runs=1), "register", "/projects/7/build#section-models"),
        (ProjectState(datasets=1, runs=1, succeeded_runs=1, model_versions=1), "deploy",
         "/projects/7/deploy#section-services"),
        (ProjectState(datasets=1, runs=1, succeeded_runs=1, model_versions=1, services=1), "outcomes",
         "/projects/7/operate#section-operations"),
        (ProjectState(datasets=1, runs=1, succeeded_runs=1, model_versions=1, services=1, services_with_outcomes=1),
         "report", "/projects/7/manage#section-reports"),
    ]
    for state, key, url in steps:
        step = next_step(7, state)
        assert (step.key, step.url) == (key, url), state


def test_overview_next_step_from_the_project_real_state(client: TestClient, session: Session) -> None:
    project = api_project(client)
    login(client)
    overview = f"/projects/{project['id']}"
    assert 'data-next-step="upload"' in client.get(overview).text
    uploaded = client.post(f"/api/v1/projects/{project['id']}/datasets", data={"name": "churn"},
                           files={"file": ("c.csv", b"a,target\n1,0\n2,1\n3,0\n4,1\n", "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    page = client.get(overview).text
    assert 'data-next-step="train"' in page and f"/projects/{project['id']}/build#section-runs" in page


def test_sections_are_data_a_feature_can_extend() -> None:
    stage = workspace.get_stage("manage")
    assert stage is not None
    before = list(stage.sections)
    try:
        workspace.add_section("manage", Section("team", "Team"), after="plan")
        workspace.add_section("manage", Section("team", "Team"))  # twice: no duplicate
        assert [s.key for s in stage.sections] == ["plan", "team", *[s.key for s in before[1:]]]
        assert section_url(3, "team") == "/projects/3/manage#section-team"
        with pytest.raises(ValueError):
            workspace.add_section("nowhere", Section("x", "X"))
    finally:
        stage.sections[:] = before
    assert section_url(3, "unknown") == "/projects/3"


def test_project_list_search_filter_and_sort(client: TestClient) -> None:
    api_project(client, name="Alpha churn")
    api_project(client, name="Beta fraud")
    login(client)
    found = client.get("/projects", params={"q": "beta"}).text
    assert "Beta fraud" in found and "Alpha churn" not in found
    by_name = client.get("/projects", params={"sort": "name", "order": "asc"}).text
    assert by_name.index("Alpha churn") < by_name.index("Beta fraud")
    assert "No project matches" in client.get("/projects", params={"stage": "operate"}).text
    assert client.get("/projects", params={"sort": "nope"}).status_code == 422
    assert client.get("/projects", params={"q": "x" * 500}).status_code == 422


def test_layout_has_skip_link_landmarks_and_the_jobs_indicator(client: TestClient) -> None:
    project = api_project(client)
    login(client)
    client.cookies.delete("mlpilot_lang")
    page = client.get(f"/projects/{project['id']}/build").text
    for expected in ('href="#main"', '<main id="main"', 'aria-label="Main"', 'aria-label="Project stages"',
                     "data-jobs-indicator", 'data-label="Jobs running: {n}"'):
        assert expected in page, expected
    # The indicator polls the jobs API with the page's session cookie, no token needed.
    jobs = client.get("/api/v1/jobs", params={"limit": 50}, headers={"Authorization": ""})
    assert jobs.status_code == 200 and isinstance(jobs.json(), list)


def test_a_forged_or_stale_flash_cookie_is_ignored(client: TestClient) -> None:
    login(client)
    for value in ("!!!not-base64", "eyJwYXRoIjogMX0=", "W10="):  # garbage, {"path": 1}, []
        client.cookies.set("mlpilot_flash", value, path="/projects")
        page = client.get("/projects")
        assert page.status_code == 200 and 'role="alert"' not in page.text
        client.cookies.clear()
        login(client)
