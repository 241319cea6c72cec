"""Deliverables and the client's sign-off: linked objects, audit, milestone closing, client isolation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient

from mlpilot.core.runtime import Runtime
from tests.comms.helpers import user_headers
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import make_model_version

TODAY = dt.date.today()


def milestone(client: TestClient, base: str, name: str = "Model delivered") -> int:
    made = client.post(f"{base}/milestones", json={"name": name, "start_date": TODAY.isoformat(),
                                                    "due_date": (TODAY + dt.timedelta(days=30)).isoformat()})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_client_approves_and_rejects_audited_and_a_rejected_deliverable_blocks_the_milestone(
        client: TestClient, runtime: Runtime, tmp_path: Path) -> None:
    project = api_project(client)
    pid = project["id"]
    base = f"/api/v1/projects/{pid}"
    mid = milestone(client, base)
    model_version_id = make_model_version(runtime, project_id=pid, model_dir=make_churn_model(tmp_path / "m", rounds=3))
    model = client.post(f"{base}/deliverables", json={"milestone_id": mid, "kind": "model", "name": "Churn model",
                                                      "model_version_id": model_version_id})
    assert model.status_code == 201, model.text
    assert model.json()["version"].endswith("v1") and model.json()["status"] == "awaiting"
    assert model.json()["evidence_url"] == f"/model-versions/{model_version_id}"
    doc = client.post(f"{base}/deliverables", json={"milestone_id": mid, "kind": "document", "name": "Interim report",
                                                    "version": "1.0", "link": "https://docs.example/interim"}).json()
    admin_headers = dict(client.headers)
    client_user = user_headers(client, "kim-acme", "client", pid)

    client.headers.update(client_user)
    # The client reads the evidence and the list, but the team's write routes are closed to it.
    assert client.get(f"{base}/deliverables").status_code == 200
    assert client.get(f"/api/v1/model-versions/{model_version_id}").status_code == 200
    for method, path, body in (("post", f"{base}/deliverables", {"milestone_id": mid, "kind": "document",
                                                                  "name": "x"}),
                               ("post", f"{base}/tasks", {"title": "x", "start_date": TODAY.isoformat(),
                                                          "due_date": TODAY.isoformat()}),
                               ("patch", f"{base}/milestones/{mid}", {"completed_on": TODAY.isoformat()}),
                               ("post", f"{base}/meetings", {"title": "x", "held_on": TODAY.isoformat()}),
                               ("post", f"{base}/risks", {"title": "x", "probability": 1, "impact": 1}),
                               ("post", f"{base}/deliverables/{doc['id']}/resubmit", None),
                               ("patch", f"/api/v1/projects/{pid}", {"description": "hacked"})):
        answer = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
        assert answer.status_code == 403, (path, answer.status_code, answer.text)
    approved = client.post(f"{base}/deliverables/{model.json()['id']}/decision",
                           json={"decision": "approved", "comment": "Accuracy as agreed."})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    no_reason = client.post(f"{base}/deliverables/{doc['id']}/decision", json={"decision": "rejected"})
    assert no_reason.status_code == 422 and "comment" in no_reason.text
    rejected = client.post(f"{base}/deliverables/{doc['id']}/decision",
                           json={"decision": "rejected", "comment": "Section 3 lacks the per-class figures."})
    assert rejected.json()["status"] == "rejected"
    twice = client.post(f"{base}/deliverables/{doc['id']}/decision", json={"decision": "approved"})
    assert twice.status_code == 409 and "resubmit" in twice.text
    assert client.post(f"{base}/deliverables/{doc['id']}/decision",
                       json={"decision": "maybe"}).status_code == 422

    client.headers.clear()
    client.headers.update(admin_headers)
    # The team cannot sign off in the client's place.
    assert client.post(f"{base}/deliverables/{doc['id']}/decision",
                       json={"decision": "approved"}).status_code == 403
    audit = client.get(f"{base}/sign-off-audit").json()
    assert [(a["username"], a["decision"], a["comment"]) for a in audit] == [
        ("kim-acme", "rejected", "Section 3 lacks the per-class figures."),
        ("kim-acme", "approved", "Accuracy as agreed.")]
    assert audit[1]["version"] == model.json()["version"]
    closing = client.patch(f"{base}/milestones/{mid}", json={"completed_on": TODAY.isoformat()})
    assert closing.status_code == 409, closing.text
    assert "cannot be closed" in closing.json()["detail"] and "Interim report" in closing.json()["detail"]
    assert client.get(f"{base}/milestones").json()[0]["completed_on"] is None
    # Reworked and resubmitted, then approved: the milestone closes.
    again = client.post(f"{base}/deliverables/{doc['id']}/resubmit")
    assert again.json()["status"] == "awaiting"
    client.headers.update(client_user)
    assert client.post(f"{base}/deliverables/{doc['id']}/decision",
                       json={"decision": "approved", "comment": "OK now."}).status_code == 200
    client.headers.clear()
    client.headers.update(admin_headers)
    assert client.patch(f"{base}/milestones/{mid}", json={"completed_on": TODAY.isoformat()}).status_code == 200
    decisions = [d["decision"] for d in client.get(f"{base}/deliverables/{doc['id']}").json()["decisions"]]
    assert decisions == ["rejected", "resubmitted", "approved"]
    assert client.delete(f"{base}/deliverables/{doc['id']}").status_code == 409  # approved stays on record


def test_a_client_sees_only_its_projects_and_signs_off_only_there(client: TestClient) -> None:
    mine = api_project(client, name="ACME churn")
    theirs = api_project(client, name="Globex demand")
    mine_base, theirs_base = f"/api/v1/projects/{mine['id']}", f"/api/v1/projects/{theirs['id']}"
    theirs_doc = client.post(f"{theirs_base}/deliverables", json={
        "milestone_id": milestone(client, theirs_base), "kind": "document", "name": "Plan", "version": "1"}).json()
    mine_doc = client.post(f"{mine_base}/deliverables", json={
        "milestone_id": milestone(client, mine_base), "kind": "document", "name": "Plan", "version": "1"}).json()
    acme = user_headers(client, "acme-client", "client", mine["id"])
    user_headers(client, "globex-client", "client", theirs["id"])
    client.headers.update(acme)
    assert [p["id"] for p in client.get("/api/v1/projects").json()] == [mine["id"]]
    for path in (f"/api/v1/projects/{theirs['id']}", f"{theirs_base}/deliverables",
                 f"{theirs_base}/deliverables/{theirs_doc['id']}", f"{theirs_base}/meetings",
                 f"{theirs_base}/client-requests", f"{theirs_base}/emails", f"{theirs_base}/digest",
                 f"{theirs_base}/sign-off-audit"):
        assert client.get(path).status_code == 403, path
    # Approving the other client's deliverable, directly or through its own project's path.
    assert client.post(f"{theirs_base}/deliverables/{theirs_doc['id']}/decision",
                       json={"decision": "approved"}).status_code == 403
    assert client.post(f"{mine_base}/deliverables/{theirs_doc['id']}/decision",
                       json={"decision": "approved"}).status_code == 404
    assert client.get(f"{theirs_base}/deliverables/{theirs_doc['id']}").status_code == 403
    assert client.post(f"{mine_base}/deliverables/{mine_doc['id']}/decision",
                       json={"decision": "approved"}).status_code == 200


def test_deliverable_links_are_checked(client: TestClient) -> None:
    project = api_project(client)
    other = api_project(client, name="Other")
    base = f"/api/v1/projects/{project['id']}"
    mid = milestone(client, base)
    other_mid = milestone(client, f"/api/v1/projects/{other['id']}")
    cases = [
        ({"milestone_id": mid, "kind": "model", "name": "m"}, 422, "model_version_id"),
        ({"milestone_id": mid, "kind": "model", "name": "m", "model_version_id": 999999}, 404, "does not exist"),
        ({"milestone_id": mid, "kind": "dataset", "name": "d", "dataset_version_id": 999999}, 404, "does not exist"),
        ({"milestone_id": mid, "kind": "service", "name": "s", "service_name": "nope"}, 404, "does not exist"),
        ({"milestone_id": mid, "kind": "service", "name": "s"}, 422, "service_name"),
        ({"milestone_id": other_mid, "kind": "document", "name": "d"}, 404, "Milestone"),
        ({"milestone_id": 2**63, "kind": "document", "name": "d"}, 422, "milestone_id"),
        ({"milestone_id": mid, "kind": "poster", "name": "d"}, 422, "kind"),
        ({"milestone_id": mid, "kind": "document", "name": "d" * 201}, 422, "name"),
        ({"milestone_id": mid, "kind": "document", "name": "d", "version": "v" * 81}, 422, "version"),
    ]
    for body, status, word in cases:
        answer = client.post(f"{base}/deliverables", json=body)
        assert answer.status_code == status and word in answer.text, (body, answer.status_code, answer.text)
    assert client.get(f"{base}/deliverables").json() == []
    assert client.get(f"{base}/deliverables/999999").status_code == 404
    assert client.post(f"{base}/deliverables/999999/resubmit").status_code == 404
    assert client.get(f"{base}/deliverables/{2**64}").status_code == 422
