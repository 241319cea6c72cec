"""Meetings (action items become plan tasks), client requests (overdue when unanswered), bad input."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from tests.projects.factories import api_project

TODAY = dt.date.today()


def test_action_items_of_a_meeting_become_tasks_of_the_plan(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    admin_id = client.get("/api/v1/me").json()["id"]
    made = client.post(f"{base}/meetings", json={
        "title": "Weekly with ACME", "held_on": TODAY.isoformat(), "attendees": "Kim (ACME), Lee (PM)",
        "minutes": "Reviewed the labels.", "decisions": "Relabel class B.",
        "action_items": [{"title": "Relabel class B", "owner_id": admin_id,
                          "due_date": (TODAY + dt.timedelta(days=5)).isoformat()},
                         {"title": "Send the data dictionary",
                          "due_date": (TODAY + dt.timedelta(days=2)).isoformat()}]})
    assert made.status_code == 201, made.text
    meeting = made.json()
    items = {a["title"]: a for a in meeting["action_items"]}
    tasks = {t["id"]: t for t in client.get(f"{base}/tasks").json()}
    relabel = tasks[items["Relabel class B"]["task_id"]]
    assert relabel["title"] == "Relabel class B" and relabel["owner_id"] == admin_id
    assert relabel["start_date"] == TODAY.isoformat()
    assert relabel["due_date"] == (TODAY + dt.timedelta(days=5)).isoformat()
    assert tasks[items["Send the data dictionary"]["task_id"]]["status"] == "todo"
    assert client.get(f"{base}/meetings").json()[0]["decisions"] == "Relabel class B."
    assert client.get(f"{base}/meetings/{meeting['id']}").json()["attendees"] == "Kim (ACME), Lee (PM)"


def test_bad_meetings_are_refused_and_nothing_is_half_written(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    stranger = client.post("/api/v1/users", json={"username": "stranger", "password": "password-123"}).json()
    cases = [
        ({"title": "x" * 201, "held_on": TODAY.isoformat()}, "title"),
        ({"title": "M", "held_on": "2026-13-45"}, "held_on"),
        ({"title": "M", "held_on": TODAY.isoformat(), "action_items": [
            {"title": "late", "due_date": (TODAY - dt.timedelta(days=1)).isoformat()}]}, "before the meeting"),
        ({"title": "M", "held_on": TODAY.isoformat(), "action_items": [
            {"title": "t", "owner_id": stranger["id"], "due_date": TODAY.isoformat()}]}, "not a member"),
        ({"title": "M", "held_on": TODAY.isoformat(), "action_items": [
            {"title": "t", "owner_id": 2**70, "due_date": TODAY.isoformat()}]}, "owner_id"),
    ]
    for body, word in cases:
        answer = client.post(f"{base}/meetings", json=body)
        assert answer.status_code == 422 and word in answer.text, (body, answer.text)
    assert client.get(f"{base}/meetings").json() == [] and client.get(f"{base}/tasks").json() == []
    assert client.get(f"{base}/meetings/424242").status_code == 404
    assert client.get(f"{base}/meetings/{2**64}").status_code == 422
    assert client.delete(f"{base}/meetings/424242").status_code == 404
    assert client.get("/api/v1/projects/424242/meetings").status_code == 404


def test_client_requests_with_deadline_overdue_and_answer(client: TestClient) -> None:
    project = api_project(client)
    base = f"/api/v1/projects/{project['id']}"
    late = client.post(f"{base}/client-requests", json={
        "title": "Confusion matrix per region", "requested_by": "Kim (ACME)",
        "received_on": (TODAY - dt.timedelta(days=10)).isoformat(),
        "respond_by": (TODAY - dt.timedelta(days=3)).isoformat()})
    assert late.status_code == 201 and late.json()["overdue"] is True
    soon = client.post(f"{base}/client-requests", json={
        "title": "Timeline", "received_on": TODAY.isoformat(),
        "respond_by": (TODAY + dt.timedelta(days=3)).isoformat()})
    assert soon.json()["overdue"] is False
    listed = client.get(f"{base}/client-requests").json()
    assert [r["title"] for r in listed] == ["Confusion matrix per region", "Timeline"]
    answered = client.post(f"{base}/client-requests/{late.json()['id']}/answer", json={"response": "Sent on Monday."})
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["overdue"] is False and body["answered_by_id"] == client.get("/api/v1/me").json()["id"]
    assert body["answered_on"] == TODAY.isoformat()
    # Bad input: an answer due before the request, empty answers, unknown ids.
    backwards = client.post(f"{base}/client-requests", json={
        "title": "x", "received_on": TODAY.isoformat(), "respond_by": (TODAY - dt.timedelta(days=1)).isoformat()})
    assert backwards.status_code == 422 and "respond_by" in backwards.text
    assert client.post(f"{base}/client-requests", json={"title": "x", "received_on": "yesterday",
                                                          "respond_by": TODAY.isoformat()}).status_code == 422
    assert client.post(f"{base}/client-requests/{soon.json()['id']}/answer", json={"response": ""}).status_code == 422
    assert client.post(f"{base}/client-requests/999999/answer", json={"response": "x"}).status_code == 404
