"""The plan section's schedule forms over the real app: template, dependencies, edits, deletions, baseline, charts."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

from fastapi.testclient import TestClient

from tests.projects.factories import api_project, login


def charts(html: str) -> list[dict]:
    return [json.loads(unescape(m)) for m in re.findall(r"data-chart='([^']*)'", html)]


def test_schedule_forms_and_charts(client: TestClient) -> None:
    project = api_project(client)
    login(client)
    url = f"/projects/{project['id']}/_section/plan"
    assert 'id="template-form"' in client.get(url).text
    start = dt.date.today() - dt.timedelta(days=3)
    made = client.post(f"{url}/template", data={"template_key": "kr-public-ai", "start_date": start.isoformat(),
                                                "locale": "ko"})
    assert made.status_code == 200 and "착수: 수행계획서 및 인력 투입" in made.text
    assert 'id="template-form"' not in made.text and 'id="critical-path"' in made.text
    again = client.post(f"{url}/template", data={"template_key": "kr-public-ai", "start_date": start.isoformat()})
    assert "already has 7 tasks" in again.text
    gantt, forecast = charts(made.text)
    links = gantt["options"]["plugins"]["ganttLinks"]["links"]
    assert len(links) == 7 and any(link[4] for link in links)  # some arrows lie on the critical path
    assert "#e11d48" in gantt["data"]["datasets"][1]["borderColor"]
    assert forecast["type"] == "bar" and sum(forecast["data"]["datasets"][0]["data"]) == 10_000
    tasks = client.get(f"/api/v1/projects/{project['id']}/tasks").json()
    by_title = {t["title"].split(":")[0]: t["id"] for t in tasks}
    cycle = client.post(f"{url}/dependencies", data={"predecessor_id": by_title["시험"],
                                                     "successor_id": by_title["착수"], "lag_days": "0"})
    assert "cycle" in cycle.text and 'role="alert"' in cycle.text
    me = client.get("/api/v1/me").json()["id"]
    for key in ("설계", "데이터 구축"):  # both run at the same time: the member is booked 200 % those weeks
        assigned = client.put(f"/api/v1/projects/{project['id']}/tasks/{by_title[key]}/assignments",
                              json={"assignments": [{"user_id": me, "allocation": 100}]})
        assert assigned.status_code == 200, assigned.text
    assert "over-allocated" in client.get(url).text.split('id="workload"')[1]
    saved = client.post(f"{url}/baselines", data={"name": "Signed"})
    assert "Signed" in saved.text and len(charts(saved.text)[0]["data"]["datasets"]) == 3
    kickoff = next(t for t in tasks if t["id"] == by_title["착수"])
    later = dt.date.fromisoformat(kickoff["due_date"]) + dt.timedelta(days=4)
    edited = client.post(f"{url}/tasks/{by_title['착수']}/edit", data={"title": "착수 (연장)",
                                                                    "due_date": later.isoformat()})
    assert "착수 (연장)" in edited.text and "+4" in edited.text  # four days behind the baseline
    backwards = client.post(f"{url}/tasks/{by_title['착수']}/edit",
                            data={"due_date": (start - dt.timedelta(days=1)).isoformat()})
    assert "is before start_date" in backwards.text
    removed = client.post(f"{url}/tasks/{by_title['이행/완료']}/delete")
    assert removed.status_code == 200 and "이행/완료: 이행·교육·인계" not in removed.text
    assert len(client.get(f"/api/v1/projects/{project['id']}/dependencies").json()) == 6
    milestone = client.get(f"/api/v1/projects/{project['id']}/milestones").json()[0]
    gone = client.post(f"{url}/milestones/{milestone['id']}/delete")
    assert gone.status_code == 200 and f"/milestones/{milestone['id']}/delete" not in gone.text
    assert len(client.get(f"/api/v1/projects/{project['id']}/milestones").json()) == 2
    client.cookies.set("mlpilot_lang", "ko")
    assert "주공정" in client.get(url).text
