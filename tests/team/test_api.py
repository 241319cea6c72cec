"""The team domain over the real app: profiles, needs from the 7-step plan, the computed figures, the salary
table (admins only, bad tables refused), access across projects, and the pages in English and Korean."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mlpilot.team.catalog import load_catalog
from tests.e2e.test_korean_pages import english_left
from tests.projects.factories import api_project, login
from tests.serving.factories import role_headers

START = "2027-01-04"  # a Monday


def _plan(client: TestClient, pid: int, locale: str = "en") -> list[dict]:
    response = client.post(f"/api/v1/projects/{pid}/plan-from-template",
                           json={"template_key": "ai-7-step", "start_date": START, "locale": locale})
    assert response.status_code == 201, response.text
    return response.json()


def _salaries(**changes: float | None) -> dict:
    catalog = load_catalog()
    entries = [{"role": r, "level": v, "monthly_cost": changes.get(f"{r}/{v}", catalog.salaries[(r, v)])}
               for r in catalog.role_keys for v in catalog.level_keys]
    return {"currency": "KRW", "entries": [e for e in entries if e["monthly_cost"] != "drop"]}


def test_needs_gaps_cost_and_comparison_follow_the_plan(client: TestClient) -> None:
    pid = api_project(client)["id"]
    base = f"/api/v1/projects/{pid}/team"
    empty = client.get(base).json()
    assert empty["gaps"]["weeks"] == [] and empty["comparison"]["basis"] == "reference"

    tasks = _plan(client, pid, locale="ko")  # Korean titles still match their AI step
    added = client.post(f"{base}/needs/suggest")
    assert added.status_code == 201
    assert len(added.json()) == sum(len(s.needs) for s in load_catalog().steps)
    assert client.post(f"{base}/needs/suggest").json() == []  # tasks with needs are left alone

    admin_id = client.get(f"{base}/members").json()[0]["user_id"]
    profile = client.put(f"{base}/members/{admin_id}", json={
        "role": "data_scientist", "level": "senior", "capacity_percent": 50, "skills": {"train": 3, "problem": 2}})
    assert profile.status_code == 200, profile.text
    assert profile.json()["skills"]["train"] == 3 and profile.json()["skills"]["collect"] == 0

    # The pmo's weekly workload shows beside the gap: the admin (a data scientist) is booked full time on "problem".
    first = next(t for t in tasks if t["title"] == "문제와 목표 지표 정의")
    booked = client.put(f"/api/v1/projects/{pid}/tasks/{first['id']}/assignments",
                        json={"assignments": [{"user_id": admin_id, "allocation": 100}]})
    assert booked.status_code == 200, booked.text
    gaps = client.get(f"{base}/gaps").json()
    ds = next(r for r in gaps["rows"] if r["role"] == "data_scientist")
    assert ds["cells"][0]["assigned"] == 1.0 and ds["cells"][-1]["assigned"] == 0.0
    assert ds["available"] == 0.5 and ds["peak_needed"] >= 1.0 and ds["short_weeks"] > 0
    assert gaps["weeks"][0] == "2027-W01"

    # One task by hand: "problem" (5 working days from Monday) at 50 % of a senior data scientist.
    problem = next(t for t in tasks if t["title"] == "문제와 목표 지표 정의")
    need = client.post(f"{base}/needs", json={"task_id": problem["id"], "role": "data_scientist",
                                              "level": "senior", "percent": 50})
    assert need.status_code == 201 and need.json()["step"] == "problem"
    cost = client.get(f"{base}/cost").json()
    line = next(x for x in cost["lines"] if x["need_id"] == need.json()["id"])
    assert line["working_days"] == 5 and line["cost"] == round(0.5 * 5 / 21 * 11_000_000)

    skills = {g["step"]: g for g in client.get(f"{base}/skills").json()}
    assert skills["train"]["short"] is False and skills["collect"]["short"] is True
    assert skills["collect"]["courses"]

    compare = client.get(f"{base}/compare", params={"years": 3}).json()
    assert compare["basis"] == "plan" and len(compare["in_house"]["years"]) == 3
    assert compare["in_house"]["years"][-1]["cumulative"] == compare["in_house"]["total"]
    assert client.get(f"{base}/compare", params={"years": 4}).status_code == 422

    refusals = [
        (client.put(f"{base}/members/{admin_id}", json={"role": "wizard"}), "role 'wizard' is not known"),
        (client.put(f"{base}/members/{admin_id}", json={"role": "pm", "skills": {"train": 7}}), "out of range"),
        (client.put(f"{base}/members/999999", json={"role": "pm"}), "not a member"),
        (client.post(f"{base}/needs", json={"task_id": 999999, "role": "pm", "percent": 10}), "does not exist"),
        (client.post(f"{base}/needs", json={"task_id": problem["id"], "role": "pm", "percent": 0}), ""),
        (client.post(f"{base}/needs", json={"task_id": problem["id"], "role": "pm", "percent": 10,
                                            "step": "dance"}), "step 'dance' is not known"),
    ]
    for response, message in refusals:
        assert response.status_code in (404, 422) and message in response.text, response.text
    assert client.delete(f"{base}/needs/{need.json()['id']}").status_code == 204
    assert client.delete(f"{base}/needs/{need.json()['id']}").status_code == 404


def test_salary_table_admins_only_and_bad_tables_refused(client: TestClient) -> None:
    pid = api_project(client)["id"]
    assert client.get("/api/v1/team/salaries").json()["source"] == "package"
    negative = client.put("/api/v1/team/salaries", json=_salaries(**{"ml_engineer/mid": -1}))
    assert negative.status_code == 422
    assert "ml_engineer/mid" in negative.json()["detail"] and "negative" in negative.json()["detail"]
    missing = client.put("/api/v1/team/salaries", json=_salaries(**{"pm/senior": None}))
    assert missing.status_code == 422 and "pm/senior): monthly_cost is missing" in missing.json()["detail"]
    short = _salaries()
    short["entries"] = [e for e in short["entries"] if e["role"] != "data_analyst"]
    dropped = client.put("/api/v1/team/salaries", json=short)
    assert dropped.status_code == 422 and "missing entries for data_analyst/junior" in dropped.json()["detail"]
    assert client.get("/api/v1/team/salaries").json()["source"] == "package"  # nothing half-saved

    saved = client.put("/api/v1/team/salaries", json=_salaries(**{"pm/mid": 1_000_000}))
    assert saved.status_code == 200 and saved.json()["source"] == "custom"
    rates = {(e["role"], e["level"]): e["monthly_cost"] for e in saved.json()["entries"]}
    assert rates[("pm", "mid")] == 1_000_000

    member = role_headers(client, pid, "member")
    assert client.get("/api/v1/team/salaries", headers=member).status_code == 200
    assert client.put("/api/v1/team/salaries", json=_salaries(), headers=member).status_code == 403
    assert client.delete("/api/v1/team/salaries", headers=member).status_code == 403

    # The form: an admin's negative entry is refused with the reason on the page, the input kept.
    login(client)
    form = {f"cost_{e['role']}_{e['level']}": str(e["monthly_cost"]) for e in _salaries()["entries"]}
    bad = client.post("/team/salaries", data={**form, "cost_pm_junior": "-5", "currency": "KRW"})
    assert bad.status_code == 422 and "negative" in bad.text and 'value="-5"' in bad.text
    empty = client.post("/team/salaries", data={**form, "cost_data_scientist_mid": "", "currency": "KRW"})
    assert empty.status_code == 422 and "data_scientist/mid): monthly_cost is missing" in empty.text
    good = client.post("/team/salaries", data={**form, "cost_pm_junior": "4,000,000", "currency": "KRW"},
                       follow_redirects=False)
    assert good.status_code == 303
    assert client.get("/api/v1/team/salaries").json()["entries"][15]["monthly_cost"] == 4_000_000
    assert client.post("/team/salaries", data={"reset": "1"}, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/team/salaries").json()["source"] == "package"


def test_members_of_one_project_see_nothing_of_another(client: TestClient) -> None:
    mine = api_project(client, name="Mine")["id"]
    theirs = api_project(client, name="Theirs")["id"]
    _plan(client, theirs)
    client.post(f"/api/v1/projects/{theirs}/team/needs/suggest")
    outsider = role_headers(client, mine, "member")
    for path in ("", "/members", "/needs", "/gaps", "/skills", "/cost", "/compare"):
        assert client.get(f"/api/v1/projects/{theirs}/team{path}", headers=outsider).status_code == 403, path
        assert client.get(f"/api/v1/projects/{mine}/team{path}", headers=outsider).status_code == 200, path
    need_id = client.get(f"/api/v1/projects/{theirs}/team/needs").json()[0]["id"]
    assert client.delete(f"/api/v1/projects/{theirs}/team/needs/{need_id}", headers=outsider).status_code == 403
    # Their need, asked for through my project, does not exist there.
    assert client.delete(f"/api/v1/projects/{mine}/team/needs/{need_id}", headers=outsider).status_code == 404
    assert client.post(f"/api/v1/projects/{theirs}/team/needs/suggest", headers=outsider).status_code == 403
    assert client.get("/api/v1/projects/999999/team", headers=outsider).status_code == 404


def test_pages_in_english_and_korean_with_forms_and_empty_states(client: TestClient) -> None:
    pid = api_project(client)["id"]
    login(client)
    page = client.get(f"/projects/{pid}/team")
    assert page.status_code == 200
    assert "No plan yet" in page.text and "Nothing to map yet" in page.text and 'id="compare-chart"' in page.text
    assert f'href="/projects/{pid}/team"' in client.get(f"/projects/{pid}").text

    _plan(client, pid)
    assert client.post(f"/projects/{pid}/team/_needs/suggest", follow_redirects=False).status_code == 303
    admin_id = client.get(f"/api/v1/projects/{pid}/team/members").json()[0]["user_id"]
    saved = client.post(f"/projects/{pid}/team/_members/{admin_id}", data={
        "role": "ml_engineer", "level": "mid", "capacity_percent": "100", "skill_train": "3"}, follow_redirects=False)
    assert saved.status_code == 303 and "error" not in saved.headers["location"]
    refused = client.post(f"/projects/{pid}/team/_members/{admin_id}", data={
        "role": "ml_engineer", "capacity_percent": "lots"}, follow_redirects=True)
    assert "capacity_percent" in refused.text and "not a whole number" in refused.text
    tasks = client.get(f"/api/v1/projects/{pid}/tasks").json()
    over = client.post(f"/projects/{pid}/team/_needs", data={"task_id": str(tasks[0]["id"]), "role": "pm",
                                                             "percent": "5000"}, follow_redirects=True)
    assert "percent" in over.text and 'role="alert"' in over.text

    english = client.get(f"/projects/{pid}/team").text
    assert 'data-testid="gap-map"' in english and "Data engineer" in english and "Suggested training" in english
    assert 'data-role="ml_engineer"' in english and "In house" in english

    client.cookies.set("mlpilot_locale", "ko")
    korean = client.get(f"/projects/{pid}/team", headers={"Accept-Language": "ko"}).text
    assert "팀과 역량" in korean and "데이터 엔지니어" in korean and "관리형 서비스" in korean
    assert "Suggested training" not in korean
    # No English UI text left once the user's data (names, task titles) and tech names Korean UIs keep are removed.
    members = client.get(f"/api/v1/projects/{pid}/team/members").json()
    data = {"Churn pilot", "admin", "ML", "PM", "MLOps", "AutoML", "GPU", "SLO", "Polars", "ROI",
            *(str(v) for m in members for v in (m.values() if isinstance(m, dict) else [m])),
            *(str(v) for v in client.get("/api/v1/me").json().values()),
            *(t["title"] for t in client.get(f"/api/v1/projects/{pid}/tasks").json())}
    assert english_left(korean, data) == [], english_left(korean, data)
    salaries = client.get("/team/salaries", headers={"Accept-Language": "ko"}).text
    assert "급여표" in salaries and "ML 엔지니어" in salaries
    client.cookies.set("mlpilot_locale", "en")
    assert client.get(f"/projects/{pid}/team", params={"years": 99}).status_code == 200


def test_ids_beyond_the_database_are_refused_not_server_errors(client: TestClient) -> None:
    pid = api_project(client)["id"]
    huge = 2**70
    assert client.delete(f"/api/v1/projects/{pid}/team/needs/{huge}").status_code == 422
    assert client.put(f"/api/v1/projects/{pid}/team/members/{huge}", json={"role": "pm"}).status_code == 422
    login(client)
    assert client.post(f"/projects/{pid}/team/_needs/{huge}/delete").status_code == 422
    assert client.post(f"/projects/{pid}/team/_needs", data={"task_id": str(huge), "role": "pm",
                                                             "percent": "10"}).status_code == 200  # shown on page


def test_viewers_read_the_page_without_forms_and_may_not_post(client: TestClient) -> None:
    pid = api_project(client)["id"]
    _plan(client, pid)
    role_headers(client, pid, "viewer")  # a viewer member of the project (password-123)
    login(client, username="viewer-user", password="password-123")
    page = client.get(f"/projects/{pid}/team")
    assert page.status_code == 200 and "team-need-form" not in page.text and "team-suggest-form" not in page.text
    assert client.post(f"/projects/{pid}/team/_needs/suggest", follow_redirects=False).status_code == 403
    salaries = client.get("/team/salaries")
    assert "Only administrators change the salary table." in salaries.text and 'name="cost_' not in salaries.text
    assert client.post("/team/salaries", data={"reset": "1"}).status_code == 403
