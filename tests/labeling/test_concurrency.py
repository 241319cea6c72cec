"""Annotators working at once over real HTTP: no item beyond its overlap, none twice to a person, safe submits.

Runs on SQLite and, when MLPILOT_TEST_POSTGRES_URL is set, on PostgreSQL (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
from fastapi.testclient import TestClient

from tests.labeling.factories import create_labeling, setup

ANNOTATORS = ("a1", "a2", "a3", "a4", "a5", "a6")


def test_parallel_annotators_respect_the_overlap(client: TestClient, live_server_url: str) -> None:
    s = setup(client, rows=24, annotators=ANNOTATORS, reviewers=())
    labeling = create_labeling(client, s, roles=dict.fromkeys(ANNOTATORS, "annotator"), overlap_share=1.0,
                               overlap_count=3)
    served: dict[str, list[int]] = {name: [] for name in ANNOTATORS}
    errors: list[str] = []
    start = threading.Barrier(len(ANNOTATORS))

    def work(name: str) -> None:
        with httpx.Client(base_url=live_server_url, headers=s.headers[name], timeout=60) as http:
            start.wait()
            while True:
                got = http.post(f"/api/v1/labeling/{labeling['id']}/next")
                if got.status_code == 204:
                    return
                if got.status_code != 200:
                    errors.append(f"next {got.status_code} {got.text}")
                    continue
                item = got.json()
                served[name].append(item["task_id"])
                done = http.post(f"/api/v1/labeling-assignments/{item['assignment_id']}/submit",
                                 json={"value": {"label": "positive"}})
                if done.status_code != 200:
                    errors.append(f"submit {done.status_code} {done.text}")

    threads = [threading.Thread(target=work, args=(name,)) for name in ANNOTATORS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not [t for t in threads if t.is_alive()]
    assert not [e for e in errors if not e.startswith("next 409")], errors
    per_task = Counter(task for tasks in served.values() for task in tasks)
    assert len(per_task) == 24 and set(per_task.values()) == {3}
    for tasks in served.values():
        assert len(tasks) == len(set(tasks))
    progress = client.get(f"/api/v1/labeling/{labeling['id']}/progress").json()
    assert progress["submitted"] == 72 and progress["items_done"] == 24 and progress["open"] == 0


def test_two_annotators_submitting_the_same_item_at_once(client: TestClient, live_server_url: str) -> None:
    s = setup(client, rows=1, annotators=("a1", "a2"), reviewers=())
    labeling = create_labeling(client, s, roles={"a1": "annotator", "a2": "annotator"}, overlap_share=1.0,
                               overlap_count=2)
    items = {name: client.post(f"/api/v1/labeling/{labeling['id']}/next", headers=s.headers[name]).json()
             for name in ("a1", "a2")}
    assert items["a1"]["task_id"] == items["a2"]["task_id"]
    results: dict[str, int] = {}
    start = threading.Barrier(2)

    def answer(name: str) -> None:
        with httpx.Client(base_url=live_server_url, headers=s.headers[name], timeout=60) as http:
            start.wait()
            results[name] = http.post(f"/api/v1/labeling-assignments/{items[name]['assignment_id']}/submit",
                                      json={"value": {"label": "negative"}}).status_code

    threads = [threading.Thread(target=answer, args=(name,)) for name in ("a1", "a2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {"a1": 200, "a2": 200}
    progress = client.get(f"/api/v1/labeling/{labeling['id']}/progress").json()
    assert progress["submitted"] == 2 and progress["items_done"] == 1
