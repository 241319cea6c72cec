"""The communication and deliverables pages: forms (not JSON), empty states, refusals on the page, ko/en, and
the client's approval form."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from tests.comms.helpers import user_headers
from tests.projects.factories import api_project, login

TODAY = dt.date.today()


def test_communication_page_empty_states_forms_and_refusals(client: TestClient) -> None:
    project = api_project(client)
    pid = project["id"]
    page = f"/projects/{pid}/communication"
    login(client)
    assert f'href="{page}"' in client.get(f"/projects/{pid}").text
    empty = client.get(page)
    assert empty.status_code == 200
    for text in ("No meeting logged yet", "No client request yet.", "No e-mail sent from mlpilot yet.",
                 "The weekly digest is off", "Weekly digest of"):
        assert text in empty.text, text

    logged = client.post(f"{page}/_meeting", data={
        "title": "Kick-off", "held_on": TODAY.isoformat(), "attendees": "Kim, Lee", "minutes": "Scope agreed.",
        "decisions": "Weekly on Mondays.", "action_0": "Share the data dictionary", "action_owner_0": "",
        "action_due_0": (TODAY + dt.timedelta(days=3)).isoformat()}, follow_redirects=True)
    assert logged.status_code == 200 and "1 action items added to the plan" in logged.text
    assert "Share the data dictionary" in logged.text and "Scope agreed." in logged.text
    assert [t["title"] for t in client.get(f"/api/v1/projects/{pid}/tasks").json()] == ["Share the data dictionary"]
    bad_date = client.post(f"{page}/_meeting", data={"title": "x", "held_on": "31/12/2026"}, follow_redirects=True)
    assert "is not a date" in bad_date.text
    too_long = client.post(f"{page}/_meeting", data={"title": "x", "held_on": "2026-01-01", "attendees": "a" * 3000},
                           follow_redirects=True)
    assert "attendees is 3000 characters long" in too_long.text

    requested = client.post(f"{page}/_request", data={
        "title": "Per-region figures", "received_on": (TODAY - dt.timedelta(days=9)).isoformat(),
        "respond_by": (TODAY - dt.timedelta(days=2)).isoformat(), "requested_by": "Kim"}, follow_redirects=True)
    assert "Per-region figures" in requested.text and 'data-testid="overdue"' in requested.text
    request_id = client.get(f"/api/v1/projects/{pid}/client-requests").json()[0]["id"]
    answered = client.post(f"{page}/requests/{request_id}/_answer", data={"response": "Sent."}, follow_redirects=True)
    assert 'data-testid="overdue"' not in answered.text and "Sent." in answered.text
    unknown = client.post(f"{page}/requests/999999/_answer", data={"response": "x"}, follow_redirects=True)
    assert unknown.status_code == 200 and "does not exist" in unknown.text

    # No SMTP server is configured in this installation: the e-mail is kept, pending, with the reason.
    mailed = client.post(f"{page}/_email", data={"recipients": "kim@acme.example", "subject": "Minutes",
                                                 "body": "See the log."}, follow_redirects=True)
    assert "stays pending and is retried" in mailed.text and "E-mail is not configured" in mailed.text
    bad_to = client.post(f"{page}/_email", data={"recipients": "kim", "subject": "s", "body": "b"},
                         follow_redirects=True)
    assert "is not an e-mail address" in bad_to.text
    no_one = client.post(f"{page}/_digest_schedule", data={"recipients": "", "weekday": "0", "enabled": "1"},
                         follow_redirects=True)
    assert "needs at least one recipient" in no_one.text
    bad_day = client.post(f"{page}/_digest_schedule", data={"recipients": "kim@acme.example", "weekday": "9"},
                          follow_redirects=True)
    assert "weekday" in bad_day.text
    scheduled = client.post(f"{page}/_digest_schedule", data={"recipients": "kim@acme.example", "weekday": "4",
                                                              "locale": "ko", "enabled": "1"}, follow_redirects=True)
    assert "Sent every Friday to kim@acme.example." in scheduled.text
    sent = client.post(f"{page}/_digest_send", follow_redirects=True)
    assert "did not accept the digest" in sent.text
    assert [e["kind"] for e in client.get(f"/api/v1/projects/{pid}/emails").json()] == ["digest", "message"]


def test_pages_in_korean(client: TestClient) -> None:
    project = api_project(client)
    pid = project["id"]
    login(client)
    client.cookies.set("mlpilot_locale", "ko")
    communication = client.get(f"/projects/{pid}/communication", headers={"Accept-Language": "ko"}).text
    for text in ("고객 커뮤니케이션", "아직 기록된 회의가 없습니다", "아직 고객 요청이 없습니다", "주간 요약",
                 "== 일정 =="):
        assert text in communication, text
    deliverables = client.get(f"/projects/{pid}/deliverables", headers={"Accept-Language": "ko"}).text
    assert "산출물 및 승인" in deliverables and "계획에 아직 마일스톤이 없습니다" in deliverables
    english = client.get(f"/projects/{pid}/deliverables", headers={"Accept-Language": "en"},
                         cookies={"mlpilot_locale": "en"}).text
    assert "Deliverables and sign-off" in english


def test_the_client_approves_on_the_page_and_a_rejection_blocks_the_milestone(client: TestClient) -> None:
    project = api_project(client)
    pid = project["id"]
    base = f"/api/v1/projects/{pid}"
    milestone = client.post(f"{base}/milestones", json={"name": "Interim", "start_date": TODAY.isoformat(),
                                                         "due_date": (TODAY + dt.timedelta(days=9)).isoformat()}).json()
    plan = client.post(f"{base}/deliverables", json={"milestone_id": milestone["id"], "kind": "document",
                                                      "name": "Interim report", "version": "1.0"}).json()
    data = client.post(f"{base}/deliverables", json={"milestone_id": milestone["id"], "kind": "document",
                                                      "name": "Data dictionary", "version": "2"}).json()
    page = f"/projects/{pid}/deliverables"
    login(client)
    team_view = client.get(page).text
    assert "List a deliverable" in team_view and f'data-testid="approve-{plan["id"]}"' not in team_view
    user_headers(client, "kim-client", "client", pid)
    login(client, username="kim-client", password="password-123")
    mine = client.get(page)
    assert 'data-testid="signer-hint"' in mine.text and f'data-testid="approve-{plan["id"]}"' in mine.text
    assert "List a deliverable" not in mine.text and "Mark milestone reached" not in mine.text
    approved = client.post(f"{page}/{plan['id']}/_decide", data={"decision": "approved", "comment": "Good."},
                           follow_redirects=True)
    assert "Deliverable approved." in approved.text
    rejected = client.post(f"{page}/{data['id']}/_decide", data={"decision": "rejected", "comment": "Columns?"},
                           follow_redirects=True)
    assert "Deliverable rejected." in rejected.text and "Columns?" in rejected.text
    # The client changes nothing else: the team's forms answer 403.
    for path, form in ((f"{page}/_add", {"milestone_id": str(milestone["id"]), "kind": "document", "name": "x"}),
                       (f"{page}/milestones/{milestone['id']}/_close", {}),
                       (f"/projects/{pid}/communication/_meeting", {"title": "x", "held_on": TODAY.isoformat()})):
        assert client.post(path, data=form, follow_redirects=False).status_code == 403, path
    login(client)
    blocked = client.post(f"{page}/milestones/{milestone['id']}/_close", follow_redirects=True)
    assert "cannot be closed" in blocked.text and "Data dictionary" in blocked.text
    assert client.get(f"{base}/milestones").json()[0]["completed_on"] is None
