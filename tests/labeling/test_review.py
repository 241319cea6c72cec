"""Review, pass rate, agreement per project (equal to the libraries), disagreements, exports, labels → dataset."""

from __future__ import annotations

import csv
import io
import json

import krippendorff
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import cohen_kappa_score

from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from tests.datasets.factories import wait_job
from tests.labeling.factories import create_labeling, next_item, setup, submit

ROLES = {"ann": "annotator", "bo": "annotator", "chae": "annotator", "rev": "reviewer"}
CLASSES = ["positive", "negative", "neutral"]
# What each annotator answers for rows 0..5 (every row goes to all three).
ANSWERS = {
    "ann": ["positive", "negative", "positive", "neutral", "negative", "positive"],
    "bo": ["positive", "negative", "negative", "neutral", "negative", "neutral"],
    "chae": ["positive", "positive", "negative", "neutral", "neutral", "positive"],
}


def _label_all(client: TestClient, s, labeling_id: int) -> dict[tuple[str, int], int]:
    """Every annotator labels every row; returns (annotator, row) → assignment id."""
    ids = {}
    for name, answers in ANSWERS.items():
        while (item := next_item(client, labeling_id, s.headers[name])) is not None:
            row = item["row_index"]
            assert submit(client, item["assignment_id"], s.headers[name], {"label": answers[row]}).status_code == 200
            ids[(name, row)] = item["assignment_id"]
    return ids


@pytest.fixture
def labeled(client: TestClient):
    s = setup(client, rows=6)
    labeling = create_labeling(client, s, roles=ROLES, labels=CLASSES, overlap_share=1.0, overlap_count=3)
    return s, labeling, _label_all(client, s, labeling["id"])


def test_agreement_equals_the_libraries_and_disagreements_are_listed(client: TestClient, labeled) -> None:
    s, labeling, _ = labeled
    got = client.get(f"/api/v1/labeling/{labeling['id']}/agreement").json()
    people = sorted(ANSWERS)
    matrix = np.array([[CLASSES.index(x) for x in ANSWERS[p]] for p in people], dtype=float)
    assert (got["n_items"], got["n_annotators"], got["n_labels"]) == (6, 3, 18)
    assert got["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(reliability_data=matrix,
                                                                         level_of_measurement="nominal"))
    pairs = {(p["annotator_a"], p["annotator_b"]): p["kappa"] for p in got["cohen_kappa"]}
    assert pairs[("ann", "bo")] == pytest.approx(cohen_kappa_score(ANSWERS["ann"], ANSWERS["bo"]))
    assert pairs[("bo", "chae")] == pytest.approx(cohen_kappa_score(ANSWERS["bo"], ANSWERS["chae"]))
    counts = np.array([[sum(ANSWERS[p][row] == c for p in people) for c in CLASSES] for row in range(6)])
    p_i = ((counts * (counts - 1)).sum(axis=1) / 6).mean()
    p_e = ((counts.sum(axis=0) / 18) ** 2).sum()
    assert got["fleiss_kappa"] == pytest.approx((p_i - p_e) / (1 - p_e))
    split = client.get(f"/api/v1/labeling/{labeling['id']}/disagreements").json()
    assert sorted(d["row_index"] for d in split) == [1, 2, 4, 5]
    votes = {v["annotator"]: v["label"]["label"] for v in split[0]["votes"]}
    assert votes == {p: ANSWERS[p][split[0]["row_index"]] for p in people}


def test_review_pass_rate_and_rejection(client: TestClient, labeled) -> None:
    s, labeling, ids = labeled
    url = "/api/v1/labeling-assignments/{}/review"
    rev = s.headers["rev"]
    queue = client.get(f"/api/v1/labeling/{labeling['id']}/review", headers=rev).json()
    assert len(queue) == 18 and {q["annotator"] for q in queue} == set(ANSWERS)
    # Annotators do not review.
    assert client.post(url.format(ids[("ann", 0)]), headers=s.headers["bo"],
                       json={"decision": "accepted"}).status_code == 403
    assert client.post(url.format(ids[("ann", 0)]), headers=rev, json={"decision": "accepted"}).status_code == 200
    fixed = client.post(url.format(ids[("ann", 1)]), headers=rev, json={"decision": "fixed",
                                                                        "value": {"label": "neutral"}})
    assert fixed.status_code == 200 and fixed.json()["reviewed_label"] == {"label": "neutral"}
    bad_fix = client.post(url.format(ids[("bo", 1)]), headers=rev, json={"decision": "fixed",
                                                                         "value": {"label": "angry"}})
    assert bad_fix.status_code == 422 and "'angry'" in bad_fix.text
    no_reason = client.post(url.format(ids[("chae", 1)]), headers=rev, json={"decision": "rejected"})
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    rejected = client.post(url.format(ids[("chae", 1)]), headers=rev,
                           json={"decision": "rejected", "reason": "The review is clearly negative."})
    assert rejected.status_code == 200
    twice = client.post(url.format(ids[("chae", 1)]), headers=rev, json={"decision": "accepted"})
    assert twice.status_code == 409
    # The annotator can no longer change a reviewed label.
    assert submit(client, ids[("ann", 0)], s.headers["ann"], {"label": "neutral"}).status_code == 409
    progress = client.get(f"/api/v1/labeling/{labeling['id']}/progress").json()
    assert (progress["reviewed"], progress["accepted"], progress["rejected"]) == (3, 2, 1)
    assert progress["pass_rate"] == pytest.approx(2 / 3)
    assert len(client.get(f"/api/v1/labeling/{labeling['id']}/review", headers=rev).json()) == 15
    # The rejected label frees a place: row 1 is served again, to somebody new.
    assert progress["items_done"] == 5


def test_exports_and_accepted_labels_become_a_dataset_version(client: TestClient, runtime: Runtime, labeled) -> None:
    s, labeling, ids = labeled
    rev = s.headers["rev"]
    for row in (0, 3):
        for name in ANSWERS:
            client.post(f"/api/v1/labeling-assignments/{ids[(name, row)]}/review", headers=rev,
                        json={"decision": "accepted"})
    client.post(f"/api/v1/labeling-assignments/{ids[('ann', 4)]}/review", headers=rev,
                json={"decision": "fixed", "value": {"label": "neutral"}})
    base = f"/api/v1/labeling/{labeling['id']}"
    table = list(csv.DictReader(io.StringIO(client.get(f"{base}/export?format=csv").text)))
    assert len(table) == 18 and {r["annotator"] for r in table} == set(ANSWERS)
    assert {r["label"] for r in table if r["row_index"] == "3"} == {"neutral"}
    lines = [json.loads(x) for x in client.get(f"{base}/export?format=jsonl").text.splitlines()]
    assert [x["row_index"] for x in lines] == list(range(6)) and len(lines[0]["annotations"]) == 3
    studio = client.get(f"{base}/export?format=labelstudio").json()
    assert len(studio) == 6 and studio[0]["data"]["text"].startswith("배송이")
    first = studio[0]["annotations"][0]["result"][0]
    assert first["type"] == "choices" and first["value"] == {"choices": ["positive"]}
    assert client.get(f"{base}/export?format=xml").status_code == 422
    made = client.post(f"{base}/to-dataset", json={"name": "reviews-labeled"})
    assert made.status_code == 201, made.text
    result = made.json()
    assert result["rows"] == 3
    assert wait_job(client, result["profile_job_id"])["state"] == "succeeded"
    lineage = client.get(f"/api/v1/dataset-versions/{result['dataset_version_id']}/lineage").json()
    assert lineage["source"] == "labeling:sentiment" and lineage["rows_in"] == 6 and lineage["rows_out"] == 3
    assert [p["id"] for p in lineage["parents"]] == [s.version_id]
    with session_scope(runtime.sessions) as session:
        stored = datasets_service.get_dataset_version(session, version_id=result["dataset_version_id"]).lineage
    assert stored["labeling"]["id"] == labeling["id"] and stored["labeling"]["annotators"] == sorted(ANSWERS)
    assert set(stored["labeling"]["agreement"]) == {"fleiss_kappa", "krippendorff_alpha", "pairwise_f1"}
    preview = client.get(f"/api/v1/dataset-versions/{result['dataset_version_id']}/preview").json()
    labels = [row["label"] for row in preview["rows"]]
    assert labels == ["positive", "neutral", "neutral"]
    clash = client.post(f"{base}/to-dataset", json={"name": "x", "label_column": "review"})
    assert clash.status_code == 422 and "label_column" in clash.text


def test_spans_agreement_uses_exact_match_f1(client: TestClient) -> None:
    s = setup(client, rows=1, annotators=("ann", "bo"), reviewers=())
    labeling = create_labeling(client, s, roles={"ann": "annotator", "bo": "annotator"}, kind="spans",
                               labels=["PER", "ORG"], overlap_share=1.0, overlap_count=2)
    spans = {"ann": [{"start": 0, "end": 2, "type": "PER"}, {"start": 4, "end": 6, "type": "ORG"}],
             "bo": [{"start": 0, "end": 2, "type": "PER"}]}
    for name, value in spans.items():
        item = next_item(client, labeling["id"], s.headers[name])
        assert submit(client, item["assignment_id"], s.headers[name], {"spans": value}).status_code == 200
    got = client.get(f"/api/v1/labeling/{labeling['id']}/agreement").json()
    assert got["pairwise_f1"] == pytest.approx(2 / 3)
    line = json.loads(client.get(f"/api/v1/labeling/{labeling['id']}/export?format=jsonl").text.splitlines()[0])
    assert line["annotations"][0]["spans"][0] == {"start": 0, "end": 2, "type": "PER", "text": "배송"}
