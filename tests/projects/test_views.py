"""The project list, create form and project page over the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.projects.factories import api_project, login


def test_project_list_empty_state_and_prefilled_form(client: TestClient) -> None:
    login(client)
    page = client.get("/projects", params={"usecase": "fraud-detection"})
    assert page.status_code == 200
    assert "No projects yet" in page.text
    assert '<option value="fraud-detection" selected>' in page.text


def test_create_project_from_form_and_open_its_page(client: TestClient) -> None:
    login(client)
    created = client.post("/projects", data={"name": "Churn pilot", "client": "ACME Telecom",
                                             "description": "Keep customers.", "usecase_key": "churn-prediction"},
                          follow_redirects=False)
    assert created.status_code == 303
    location = created.headers["location"]
    page = client.get(location)
    assert page.status_code == 200
    for expected in ("Churn pilot", "ACME Telecom", "Churn prediction", "Stage timeline", "Discover", "Operate",
                     'class="current"', 'aria-current="page"', 'data-next-step="upload"', "/build", "/manage"):
        assert expected in page.text, expected
    build = client.get(location + "/build").text
    assert 'hx-get="/projects/' in build and "/_section/runs" in build and 'id="section-models"' in build
    assert 'id="section-reports"' in client.get(location + "/manage").text
    listing = client.get("/projects")
    assert "Churn pilot" in listing.text and "No projects yet" not in listing.text

    # Post/Redirect/Get: a refused form redirects (303); the page shows the reason once, with the inputs kept.
    duplicate = client.post("/projects", data={"name": "Churn pilot", "client": "Kept Co"}, follow_redirects=False)
    assert duplicate.status_code == 303
    shown = client.get(duplicate.headers["location"])
    assert "already exists" in shown.text and 'value="Kept Co"' in shown.text
    assert "already exists" not in client.get("/projects").text  # shown once: a refresh is a plain GET
    blank = client.post("/projects", data={"name": "  ", "description": "keep me"}, follow_redirects=False)
    assert blank.status_code == 303
    shown = client.get(blank.headers["location"])
    assert "Give the project a name" in shown.text and "keep me</textarea>" in shown.text


def test_stage_change_shows_on_timeline_and_korean_page_renders(client: TestClient) -> None:
    project = api_project(client)
    login(client)
    moved = client.post(f"/projects/{project['id']}/stage", data={"stage": "data", "note": "screened go"},
                        follow_redirects=False)
    assert moved.status_code == 303
    page = client.get(f"/projects/{project['id']}").text
    timeline = page.split('class="timeline"')[1].split("</ol>")[0]
    assert timeline.count('class="done"') == 2 and timeline.count('class="current"') == 1
    assert client.get(f"/api/v1/projects/{project['id']}").json()["stage"] == "data"
    client.cookies.set("mlpilot_lang", "ko")
    korean = client.get(f"/projects/{project['id']}")
    assert korean.status_code == 200 and 'lang="ko"' in korean.text and "고객 이탈 예측" in korean.text


def test_member_form_and_unknown_project(client: TestClient) -> None:
    project = api_project(client)
    client.post("/api/v1/users", json={"username": "dana", "password": "password-123"})
    login(client)
    added = client.post(f"/projects/{project['id']}/members", data={"username": "dana", "responsibility": "data"})
    assert added.status_code == 200 and "dana" in added.text and added.url.path.endswith("/manage")
    unknown = client.post(f"/projects/{project['id']}/members", data={"username": "ghost"}, follow_redirects=False)
    assert unknown.status_code == 303
    assert "ghost" in client.get(unknown.headers["location"]).text
    missing = client.get("/projects/9999", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "9999" in missing.text


def test_viewer_reads_but_gets_no_forms(client: TestClient) -> None:
    project = api_project(client)
    client.post("/api/v1/users", json={"username": "vic", "password": "password-123", "role": "viewer"})
    assert client.post(f"/api/v1/projects/{project['id']}/members", json={"username": "vic"}).status_code == 201
    login(client, username="vic", password="password-123")
    page = client.get(f"/projects/{project['id']}")
    assert page.status_code == 200 and "Change stage" not in page.text
    assert "Add member" not in client.get(f"/projects/{project['id']}/manage").text
    for name in ("screening", "plan", "reports"):
        fragment = client.get(f"/projects/{project['id']}/_section/{name}")
        assert fragment.status_code == 200 and "hx-post" not in fragment.text, name
    denied = client.post(f"/projects/{project['id']}/_section/plan/milestones",
                         data={"name": "M", "start_date": "2026-01-01", "due_date": "2026-01-02"})
    assert "member role" in denied.text
    assert client.get(f"/api/v1/projects/{project['id']}/milestones").json() == []
