"""The risk register page over the real app: heat map, filters, forms, history, issues, plan figures."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

from fastapi.testclient import TestClient

from mlpilot.core import jobs
from mlpilot.core.runtime import Runtime
from tests.projects.factories import api_project, login


def test_register_page_forms_heatmap_and_history(client: TestClient, runtime: Runtime) -> None:
    project = api_project(client)
    pid = project["id"]
    login(client)
    page = f"/projects/{pid}/risks"
    empty = client.get(page)
    assert empty.status_code == 200 and "No risks here" in empty.text and "heatmap" not in empty.text
    assert f'href="{page}"' in client.get(f"/projects/{pid}").text

    added = client.post(f"{page}/_add", data={"title": "Labels disagree", "probability": "4", "impact": "5",
                                              "mitigation": "Agree a guide"}, follow_redirects=True)
    assert added.status_code == 200 and "Labels disagree" in added.text
    spec = json.loads(unescape(re.search(r"data-chart='([^']*)'", added.text).group(1)))
    assert spec["type"] == "bubble" and spec["data"]["datasets"][0]["data"][0]["x"] == "4"
    assert spec["data"]["datasets"][0]["backgroundColor"] == ["#dc2626"]
    risk = client.get(f"/api/v1/projects/{pid}/risks").json()[0]

    bad = client.post(f"{page}/_add", data={"title": "x", "probability": "nine", "impact": "1"},
                      follow_redirects=True)
    assert "probability" in bad.text and "is not a whole number" in bad.text
    edited = client.post(f"{page}/{risk['id']}/_edit", data={
        "title": "Labels disagree", "probability": "2", "impact": "5", "status": "mitigating",
        "description": "", "mitigation": "Agree a guide", "owner_id": "", "due_date": ""}, follow_redirects=True)
    assert edited.status_code == 200 and "mitigating" in client.get(f"/api/v1/projects/{pid}/risks").text
    history = re.search(rf'data-testid="history-{risk["id"]}".*?</table>', edited.text, re.S).group(0)
    assert "probability" in history and "4 → 2" in history and "admin" in history
    client.post(f"{page}/{risk['id']}/_close")
    closed_only = client.get(page, params={"status": "closed"}).text
    assert "Labels disagree" in closed_only and "heatmap" not in closed_only  # nothing open to chart

    today = dt.date.today()
    client.post(f"/api/v1/projects/{pid}/milestones", json={
        "name": "Interim report", "start_date": (today - dt.timedelta(days=9)).isoformat(),
        "due_date": (today - dt.timedelta(days=1)).isoformat()})
    scanned = client.post(f"{page}/_scan", follow_redirects=True)
    assert "Scan queued as job" in scanned.text
    job_id = int(re.search(r"Scan queued as job (\d+)", scanned.text).group(1))
    assert jobs.wait_for_job(runtime, job_id, timeout=60).state == "succeeded"
    auto = client.get(page, params={"source": "auto"}).text
    assert "Interim report" in auto and "Milestone projected late" in auto and "Labels disagree" not in auto

    client.post(f"/projects/{pid}/issues/_add", data={"kind": "change_request", "title": "Add a region model"})
    issue = client.get(f"/api/v1/projects/{pid}/issues").json()[0]
    decided = client.post(f"/projects/{pid}/issues/{issue['id']}/_decide", data={"decision": "approved",
                                                                                 "note": "Budget agreed"},
                          follow_redirects=True)
    assert "Approved" in decided.text and "Budget agreed" in decided.text
    plan = client.post(f"{page}/_plan", data={"min_rows": "500", "target_metric": "roc_auc", "target_value": "0.8",
                                              "stale_runs": "4"}, follow_redirects=True)
    assert plan.status_code == 200 and 'value="500"' in plan.text
    saved = client.get(f"/api/v1/projects/{pid}/risk-plan").json()
    assert saved["min_rows"] == 500 and saved["target_value"] == 0.8 and saved["stale_runs"] == 4
    refused = client.post(f"{page}/_plan", data={"max_error_rate": "3"}, follow_redirects=True)
    assert "max_error_rate" in refused.text


def test_korean_page_shows_korean_titles_and_mitigations(client: TestClient, runtime: Runtime) -> None:
    project = api_project(client)
    pid = project["id"]
    today = dt.date.today()
    client.post(f"/api/v1/projects/{pid}/milestones", json={
        "name": "착수보고", "start_date": (today - dt.timedelta(days=9)).isoformat(),
        "due_date": (today - dt.timedelta(days=2)).isoformat()})
    job = client.post(f"/api/v1/projects/{pid}/risks/scan").json()
    assert jobs.wait_for_job(runtime, job["job_id"], timeout=60).state == "succeeded"
    login(client)
    client.cookies.set("mlpilot_locale", "ko")
    text = client.get(f"/projects/{pid}/risks", headers={"Accept-Language": "ko"}).text
    assert "위험" in text and "마일스톤 착수보고 완료 예상일" in text and "고객과 새 일정을 합의" in text
