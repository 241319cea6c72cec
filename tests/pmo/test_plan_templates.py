"""Plan templates: the packaged ones validate, a plan is created from each, admins override them, bad ones refused."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mlpilot.core.errors import Conflict, InvalidInput
from mlpilot.pmo import plan_templates, scheduling, service
from mlpilot.pmo.window import get_window
from tests.projects.factories import api_project, make_project, make_user

D = dt.date.fromisoformat


def test_packaged_templates() -> None:
    templates = plan_templates.packaged_templates()
    assert set(templates) == {"ai-7-step", "managed-service", "kr-public-ai"}
    public = templates["kr-public-ai"]
    assert [m.name.ko for m in public.milestones] == ["착수보고", "중간보고", "완료보고"]
    phases = ["착수", "분석", "설계", "데이터 구축", "모델 개발", "시험", "이행/완료"]
    assert [t.name.ko.split(":")[0] for t in public.tasks] == phases
    assert len(templates["ai-7-step"].tasks) == 7 and len(templates["managed-service"].milestones) == 4


@pytest.mark.parametrize("key", ["ai-7-step", "managed-service", "kr-public-ai"])
def test_plan_from_each_template(session: Session, key: str) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    spec = plan_templates.packaged_templates()[key]
    tasks = plan_templates.create_plan(session, project_id=project.id, user=owner, key=key,
                                       start_date=D("2026-04-01"), locale="ko")
    assert [t.title for t in tasks] == [t.name.ko for t in spec.tasks]
    links = sum(len(t.depends_on) for t in spec.tasks)
    assert len(scheduling.list_dependencies(session, project_id=project.id)) == links
    path = scheduling.critical_path(session, project_id=project.id)
    # Dates were laid out by the engine, so the plan has no slack on its longest chain and starts on the day.
    assert min(t.start_date for t in tasks) == D("2026-04-01")
    assert path.finish == max(t.due_date for t in tasks) and path.critical_path[0].start == D("2026-04-01")
    milestones = service.list_milestones(session, project_id=project.id)
    assert [m.name for m in milestones] == [m.name.ko for m in spec.milestones]
    window = get_window(session, project_id=project.id)
    assert window is not None and window.template_key == key
    with pytest.raises(Conflict, match="already has"):
        plan_templates.create_plan(session, project_id=project.id, user=owner, key=key, start_date=D("2026-04-01"))


def test_korean_public_schedule() -> None:
    spec = plan_templates.packaged_templates()["kr-public-ai"]
    dates = dict(zip([t.key for t in spec.tasks], plan_templates.schedule_template(spec, D("2026-01-05")),
                     strict=True))
    assert dates["kickoff"] == (D("2026-01-05"), D("2026-01-14"))
    # Data construction starts five days (lag) after analysis ends; model development waits for it and design.
    assert dates["data"][0] == dates["analysis"][1] + dt.timedelta(days=6)
    assert dates["model"][0] == max(dates["data"][1], dates["design"][1]) + dt.timedelta(days=1)


def test_bad_templates_are_refused_naming_the_field() -> None:
    good = json.loads((plan_templates.TEMPLATE_DIR / "ai-7-step.json").read_text())
    unknown = json.loads(json.dumps(good))
    unknown["tasks"][2]["durations"] = 3
    with pytest.raises(InvalidInput, match=r"tasks\.2\.durations: unknown field"):
        plan_templates.parse_template(unknown, where="upload")
    dangling = json.loads(json.dumps(good))
    dangling["tasks"][1]["depends_on"] = ["nowhere"]
    with pytest.raises(InvalidInput, match="'nowhere' is not a task"):
        plan_templates.parse_template(dangling, where="upload")
    loop = json.loads(json.dumps(good))
    loop["tasks"][0]["depends_on"] = ["improve"]
    with pytest.raises(InvalidInput, match="form a cycle"):
        plan_templates.parse_template(loop, where="upload")


def test_admin_overrides_a_template_over_the_api(client: TestClient) -> None:
    listed = client.get("/api/v1/plan-templates").json()
    assert {t["key"]: t["source"] for t in listed}["kr-public-ai"] == "package"
    spec = client.get("/api/v1/plan-templates/ai-7-step").json()
    spec["tasks"] = spec["tasks"][:2]
    spec["tasks"][0]["name"]["en"] = "Frame the problem"
    spec["milestones"] = [m for m in spec["milestones"] if m["key"] in {"problem-agreed", "data-ready"}]
    bad = client.post("/api/v1/plan-templates", json={**spec, "owner": "me"})
    assert bad.status_code == 422 and "owner" in bad.json()["detail"]
    saved = client.post("/api/v1/plan-templates", json=spec)
    assert saved.status_code == 200, saved.text
    assert {t["key"]: t["source"] for t in client.get("/api/v1/plan-templates").json()}["ai-7-step"] == "custom"
    project = api_project(client)
    made = client.post(f"/api/v1/projects/{project['id']}/plan-from-template",
                       json={"template_key": "ai-7-step", "start_date": "2026-05-04"})
    assert made.status_code == 201, made.text
    assert [t["title"] for t in made.json()] == ["Frame the problem", "Collect data"]
    unknown = client.post(f"/api/v1/projects/{project['id']}/plan-from-template",
                          json={"template_key": "nope", "start_date": "2026-05-04"})
    assert unknown.status_code == 404 and "kr-public-ai" in unknown.json()["detail"]
    client.post("/api/v1/users", json={"username": "mo", "password": "password-123", "role": "member"})
    member = TestClient(client.app)
    member.post("/login", data={"username": "mo", "password": "password-123"}, follow_redirects=False)
    token = member.post("/api/v1/tokens", json={"name": "t"}).json()["token"]
    refused = client.post("/api/v1/plan-templates", json=spec, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
