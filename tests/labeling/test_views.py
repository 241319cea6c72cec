"""The labeling pages: the project section and its create form, the project page, the work and review pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.labeling.factories import create_labeling, next_item, setup, submit


def _signed_in(client: TestClient, name: str, password: str = "password-123") -> TestClient:
    browser = TestClient(client.app)
    assert browser.post("/login", data={"username": name, "password": password},
                        follow_redirects=False).status_code == 303
    return browser


def test_section_create_form_and_project_page(client: TestClient) -> None:
    s = setup(client, rows=4, annotators=("ann",), reviewers=())
    admin = _signed_in(client, "admin", "admin-password-123")
    section = admin.get(f"/projects/{s.project_id}/_section/labeling")
    assert section.status_code == 200 and "New labeling project" in section.text
    bad = admin.post(f"/projects/{s.project_id}/labeling/new",
                     data={"name": "x", "dataset_version_id": s.version_id, "kind": "classification",
                           "labels": "a, b", "text_column": "body"})
    assert bad.status_code == 422 and "no column" in bad.text and "body" in bad.text
    made = admin.post(f"/projects/{s.project_id}/labeling/new", follow_redirects=False,
                      data={"name": "tone", "dataset_version_id": s.version_id, "kind": "classification",
                            "labels": "positive, negative", "text_column": "review", "overlap_share": "50",
                            "overlap_count": "2", "guidelines": "Read the whole review."})
    assert made.status_code == 303
    page = admin.get(made.headers["location"])
    assert page.status_code == 200 and "Read the whole review." in page.text and "Inspection pass rate" in page.text
    korean = admin.get(made.headers["location"], headers={"Accept-Language": "ko-KR"})
    assert "검수 합격률" in korean.text and "라벨러 간 일치도" in korean.text


def test_work_and_review_pages_need_their_roles(client: TestClient) -> None:
    s = setup(client, rows=4, annotators=("ann",), reviewers=("rev",))
    labeling = create_labeling(client, s, roles={"ann": "annotator", "rev": "reviewer"})
    ann, rev = _signed_in(client, "ann"), _signed_in(client, "rev")
    work = ann.get(f"/labeling/{labeling['id']}/work")
    assert work.status_code == 200 and 'data-key="1"' in work.text and "/static/labeling.js" in work.text
    assert rev.get(f"/labeling/{labeling['id']}/work").status_code == 403
    assert ann.get(f"/labeling/{labeling['id']}/review-page").status_code == 403
    item = next_item(client, labeling["id"], s.headers["ann"])
    submit(client, item["assignment_id"], s.headers["ann"], {"label": "negative"})
    queue = rev.get(f"/labeling/{labeling['id']}/review-page")
    assert queue.status_code == 200 and f'data-assignment="{item["assignment_id"]}"' in queue.text
    done = rev.post(f"/labeling-assignments/{item['assignment_id']}/review-form",
                    data={"decision": "rejected", "reason": ""}, follow_redirects=False)
    assert done.status_code == 303 and "error=" in done.headers["location"]
    fixed = rev.post(f"/labeling-assignments/{item['assignment_id']}/review-form",
                     data={"decision": "fixed", "fixed_label": "neutral"}, follow_redirects=True)
    assert fixed.status_code == 200 and "100.0 %" in fixed.text
