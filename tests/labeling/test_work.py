"""Labeling projects over a dataset version: tasks, roles, overlap, next item, submit, skip and bad answers."""

from __future__ import annotations

import re
from collections import Counter

import polars as pl
import pytest
from fastapi.testclient import TestClient

from tests.datasets.factories import csv_bytes, upload_ok
from tests.labeling.factories import create_labeling, next_item, setup, submit

ROLES = {"ann": "annotator", "bo": "annotator", "chae": "annotator", "rev": "reviewer"}


def test_tasks_are_the_version_rows_with_the_configured_overlap(client: TestClient) -> None:
    s = setup(client, rows=200)
    labeling = create_labeling(client, s, roles=ROLES, overlap_share=0.1, overlap_count=3, batch_size=50)
    assert labeling["task_count"] == 200
    progress = client.get(f"/api/v1/labeling/{labeling['id']}/progress").json()
    overlapping = (progress["target_labels"] - 200) // 2
    assert 5 <= overlapping <= 40  # a seeded draw of about 10 % of 200 items, each labeled by 3
    item = next_item(client, labeling["id"], s.headers["ann"])
    assert item is not None and item["row_index"] == 0 and item["text"].startswith("배송이 빨라서 좋아요")
    assert item["fields"] == {"stars": "1"}


def test_every_item_is_served_up_to_its_overlap_and_never_twice_to_one_person(client: TestClient) -> None:
    s = setup(client, rows=30)
    labeling = create_labeling(client, s, roles=ROLES, overlap_share=0.3, overlap_count=2)
    target = client.get(f"/api/v1/labeling/{labeling['id']}/progress").json()["target_labels"]
    served: Counter[int] = Counter()
    seen: dict[str, set[int]] = {name: set() for name in ("ann", "bo", "chae")}
    active = list(seen)
    while active:
        for name in list(active):
            item = next_item(client, labeling["id"], s.headers[name])
            if item is None:
                active.remove(name)
                continue
            assert item["task_id"] not in seen[name]
            seen[name].add(item["task_id"])
            served[item["task_id"]] += 1
            assert submit(client, item["assignment_id"], s.headers[name], {"label": "positive"}).status_code == 200
    assert sum(served.values()) == target and len(served) == 30
    assert max(served.values()) == 2
    progress = client.get(f"/api/v1/labeling/{labeling['id']}/progress").json()
    assert progress["submitted"] == target and progress["items_done"] == 30
    assert progress["seconds_per_label"] == pytest.approx(2.5)


def test_the_open_item_is_served_again_until_answered_and_skips_go_to_others(client: TestClient) -> None:
    s = setup(client, rows=3)
    labeling = create_labeling(client, s, roles=ROLES)
    first = next_item(client, labeling["id"], s.headers["ann"])
    assert next_item(client, labeling["id"], s.headers["ann"]) == first
    skipped = client.post(f"/api/v1/labeling-assignments/{first['assignment_id']}/skip", headers=s.headers["ann"])
    assert skipped.status_code == 200 and skipped.json()["status"] == "skipped"
    assert next_item(client, labeling["id"], s.headers["ann"])["task_id"] != first["task_id"]
    assert next_item(client, labeling["id"], s.headers["bo"])["task_id"] == first["task_id"]
    again = submit(client, first["assignment_id"], s.headers["ann"], {"label": "positive"})
    assert again.status_code == 409


def test_an_answer_can_be_changed_until_reviewed(client: TestClient) -> None:
    s = setup(client, rows=3)
    labeling = create_labeling(client, s, roles=ROLES)
    item = next_item(client, labeling["id"], s.headers["ann"])
    assert submit(client, item["assignment_id"], s.headers["ann"], {"label": "positive"}).status_code == 200
    changed = submit(client, item["assignment_id"], s.headers["ann"], {"label": "negative"})
    assert changed.status_code == 200 and changed.json()["label"] == {"label": "negative"}
    mine = client.get(f"/api/v1/labeling/{labeling['id']}/mine", headers=s.headers["ann"]).json()
    assert [m["label"] for m in mine] == [{"label": "negative"}]
    progress = client.get(f"/api/v1/labeling/{labeling['id']}/progress").json()
    assert progress["submitted"] == 1 and progress["seconds_per_label"] == pytest.approx(5.0)


@pytest.mark.parametrize(("kind", "labels", "value", "message"), [
    ("classification", ["pos", "neg"], {"label": "maybe"}, "value.label: 'maybe' is not in the label scheme"),
    ("classification", ["pos", "neg"], {"labels": ["pos"]}, "expects only 'label'"),
    ("multilabel", ["a", "b"], {"labels": ["a", "a"]}, "given twice"),
    ("multilabel", ["a", "b"], {"labels": ["a", "c"]}, r"value.labels\[1\]"),
    ("spans", ["PER", "ORG"], {"spans": [{"start": 0, "end": 500, "type": "PER"}]}, "outside the text"),
    ("spans", ["PER", "ORG"], {"spans": [{"start": 0, "end": 4, "type": "PER"}, {"start": 2, "end": 6,
                                                                               "type": "ORG"}]}, "overlaps"),
    ("spans", ["PER", "ORG"], {"spans": [{"start": 0, "end": 2, "type": "LOC"}]}, r"value.spans\[0\].type"),
    ("boxes", ["car"], {"boxes": [{"x": 600, "y": 10, "width": 50, "height": 10, "label": "car"}]},
     "outside the image of 640 × 480"),
    ("boxes", ["car"], {"boxes": [{"x": 1, "y": 1, "width": 0, "height": 10, "label": "car"}]}, "positive"),
])
def test_answers_outside_the_scheme_are_refused_with_422(client: TestClient, kind: str, labels: list[str],
                                                        value: dict, message: str) -> None:
    s = setup(client, rows=2, annotators=("ann",), reviewers=())
    labeling = create_labeling(client, s, roles={"ann": "annotator"}, kind=kind, labels=labels,
                               image_width_column="width", image_height_column="height")
    item = next_item(client, labeling["id"], s.headers["ann"])
    response = submit(client, item["assignment_id"], s.headers["ann"], value)
    assert response.status_code == 422
    assert re.search(message, response.json()["detail"]), response.json()["detail"]


def test_valid_spans_and_boxes_are_stored(client: TestClient) -> None:
    s = setup(client, rows=2, annotators=("ann",), reviewers=())
    spans = create_labeling(client, s, roles={"ann": "annotator"}, kind="spans", labels=["PER", "ORG"])
    item = next_item(client, spans["id"], s.headers["ann"])
    stored = submit(client, item["assignment_id"], s.headers["ann"],
                    {"spans": [{"start": 4, "end": 6, "type": "ORG"}, {"start": 0, "end": 2, "type": "PER"}]})
    assert stored.status_code == 200, stored.text
    assert stored.json()["label"]["spans"] == [{"start": 0, "end": 2, "type": "PER", "text": "배송"},
                                               {"start": 4, "end": 6, "type": "ORG", "text": "빨라"}]
    boxes = create_labeling(client, s, roles={"ann": "annotator"}, name="cars", kind="boxes", labels=["car"],
                            image_width_column="width", image_height_column="height")
    item = next_item(client, boxes["id"], s.headers["ann"])
    box = {"x": 600, "y": 0, "width": 40, "height": 480, "label": "car"}
    assert submit(client, item["assignment_id"], s.headers["ann"], {"boxes": [box]}).status_code == 200


def test_bad_project_settings_name_the_field(client: TestClient) -> None:
    s = setup(client, rows=2, annotators=(), reviewers=())
    url = f"/api/v1/projects/{s.project_id}/labeling"
    base = {"name": "x", "dataset_version_id": s.version_id, "kind": "classification", "labels": ["a"],
            "text_column": "review"}
    missing = client.post(url, json={**base, "text_column": "body"})
    assert missing.status_code == 422 and "text_column: the dataset version has no column 'body'" in missing.text
    boxes = client.post(url, json={**base, "kind": "boxes"})
    assert boxes.status_code == 422 and "image_width_column" in boxes.text
    twice = client.post(url, json={**base, "labels": ["a", "a"]})
    assert twice.status_code == 422 and "given once" in twice.text


def test_access_rules(client: TestClient) -> None:
    from tests.labeling.factories import add_user

    s = setup(client, rows=3)
    labeling = create_labeling(client, s, roles={"ann": "annotator", "rev": "reviewer"})
    outsider = add_user(client, "otto")
    assert client.get(f"/api/v1/labeling/{labeling['id']}", headers=outsider).status_code in (403, 404)
    assert client.post(f"/api/v1/labeling/{labeling['id']}/next", headers=outsider).status_code in (403, 404)
    # A project member without the annotator role cannot take items; a reviewer is not an annotator either.
    for name in ("bo", "rev"):
        refused = client.post(f"/api/v1/labeling/{labeling['id']}/next", headers=s.headers[name])
        assert refused.status_code == 403 and "annotator" in refused.json()["detail"]
    item = next_item(client, labeling["id"], s.headers["ann"])
    # Nobody else may answer or read someone's item.
    for headers in (s.headers["bo"], outsider):
        response = submit(client, item["assignment_id"], headers, {"label": "positive"})
        assert response.status_code in (403, 404)
    # Only project writers manage members.
    added = client.post(f"/api/v1/labeling/{labeling['id']}/members", headers=outsider,
                        json={"username": "otto", "role": "annotator"})
    assert added.status_code in (403, 404)
    not_member = client.post(f"/api/v1/labeling/{labeling['id']}/members", json={"username": "otto",
                                                                               "role": "annotator"})
    assert not_member.status_code == 422 and "not a member of this project" in not_member.text


def test_non_finite_box_coordinates_are_refused(client: TestClient) -> None:
    s = setup(client, rows=1, annotators=("ann",), reviewers=())
    labeling = create_labeling(client, s, roles={"ann": "annotator"}, kind="boxes", labels=["car"],
                               image_width_column="width", image_height_column="height")
    item = next_item(client, labeling["id"], s.headers["ann"])
    body = '{"value": {"boxes": [{"x": NaN, "y": 1, "width": 5, "height": 5, "label": "car"}]}}'
    response = client.post(f"/api/v1/labeling-assignments/{item['assignment_id']}/submit", content=body,
                           headers={**s.headers["ann"], "Content-Type": "application/json"})
    assert response.status_code == 422


def test_two_labeling_projects_serve_their_own_items_and_count_answers(client: TestClient) -> None:
    s = setup(client, rows=6)
    first = create_labeling(client, s, roles={"ann": "annotator"})
    second = create_labeling(client, s, roles={"ann": "annotator", "bo": "annotator"}, name="tone")
    served: list[int] = []
    for expected in range(6):
        item = next_item(client, second["id"], s.headers["ann"])
        assert item is not None and item["row_index"] == expected and item["position"] == expected
        assert next_item(client, second["id"], s.headers["ann"]) == item  # the open item again, same position
        done = submit(client, item["assignment_id"], s.headers["ann"], {"label": "neutral"})
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["status"] == "submitted" and body["label"] == {"label": "neutral"}
        assert body["position"] == expected + 1 and body["fields"] == {"stars": str(expected % 5 + 1)}
        changed = submit(client, item["assignment_id"], s.headers["ann"], {"label": "positive"})
        assert changed.json()["position"] == expected + 1  # changing an answer is not a new one
        served.append(item["task_id"])
    assert next_item(client, second["id"], s.headers["ann"]) is None
    assert next_item(client, second["id"], s.headers["bo"]) is None  # every item had one place
    item = next_item(client, first["id"], s.headers["ann"])  # the other project is untouched
    assert item is not None and item["row_index"] == 0 and item["position"] == 0 and item["task_id"] not in served
    other = client.post(f"/api/v1/labeling-assignments/{item['assignment_id']}/submit", headers=s.headers["bo"],
                        json={"value": {"label": "positive"}})
    assert other.status_code in (403, 404)


def test_items_without_fields_null_text_and_too_long_text(client: TestClient) -> None:
    s = setup(client, rows=2, annotators=("ann",), reviewers=())
    frame = pl.DataFrame({"review": ["short, with \"quotes\"\nand a new line", None, "x" * 200_001],
                          "stars": [1, None, 3]})
    version = upload_ok(client, s.project_id, name="odd", filename="odd.csv", data=csv_bytes(frame))
    refused = client.post(f"/api/v1/projects/{s.project_id}/labeling", json={
        "name": "long", "dataset_version_id": version["version"]["id"], "kind": "classification",
        "labels": ["a", "b"], "text_column": "review", "fields": []})
    assert refused.status_code == 422 and "row 3 has 200,001 characters" in refused.text
    short = upload_ok(client, s.project_id, name="odd2", filename="odd2.csv", data=csv_bytes(frame.head(2)))
    labeling = create_labeling(client, s, roles={"ann": "annotator"}, dataset_version_id=short["version"]["id"],
                               fields=["stars"], name="odd")
    first = next_item(client, labeling["id"], s.headers["ann"])
    assert first is not None and first["text"] == "short, with \"quotes\"\nand a new line"
    assert first["fields"] == {"stars": "1"}
    submit(client, first["assignment_id"], s.headers["ann"], {"label": "positive"})
    second = next_item(client, labeling["id"], s.headers["ann"])
    assert second is not None and second["text"] == "" and second["fields"] == {"stars": None}
    bare = create_labeling(client, s, roles={"ann": "annotator"}, dataset_version_id=short["version"]["id"],
                           fields=[], name="bare")
    item = next_item(client, bare["id"], s.headers["ann"])
    assert item is not None and item["fields"] == {}


def test_a_skip_counts_in_the_position_like_an_answer(client: TestClient) -> None:
    s = setup(client, rows=3, annotators=("ann",), reviewers=())
    labeling = create_labeling(client, s, roles={"ann": "annotator"})
    first = next_item(client, labeling["id"], s.headers["ann"])
    assert first is not None and first["position"] == 0
    skipped = client.post(f"/api/v1/labeling-assignments/{first['assignment_id']}/skip", headers=s.headers["ann"])
    assert skipped.status_code == 200 and skipped.json()["position"] == 1
    second = next_item(client, labeling["id"], s.headers["ann"])
    assert second is not None and second["position"] == 1
    assert submit(client, second["assignment_id"], s.headers["ann"], {"label": "neutral"}).json()["position"] == 2
    mine = client.get(f"/api/v1/labeling/{labeling['id']}/mine", headers=s.headers["ann"]).json()
    assert [item["status"] for item in mine] == ["submitted", "skipped"]
