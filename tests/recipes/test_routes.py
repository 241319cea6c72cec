"""Recipes over the real app: versions, preview on a sample, apply as a job with lineage, and bad input."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.datasets.factories import create_project, wait_job
from tests.recipes.factories import CLEAN_STEPS, create_recipe, dirty_frame, upload_frame


def test_create_version_list_and_get(client: TestClient) -> None:
    pid = create_project(client)
    recipe = create_recipe(client, pid, CLEAN_STEPS[:2])
    assert recipe["latest_version"] == 1 and recipe["versions"][0]["steps"] == CLEAN_STEPS[:2]
    added = client.post(f"/api/v1/recipes/{recipe['id']}/versions", json={"steps": CLEAN_STEPS, "note": "more"})
    assert added.status_code == 201 and added.json()["version"] == 2
    detail = client.get(f"/api/v1/recipes/{recipe['id']}").json()
    assert [(v["version"], len(v["steps"])) for v in detail["versions"]] == [(1, 2), (2, 6)]  # v1 unchanged
    listed = client.get(f"/api/v1/projects/{pid}/recipes").json()
    assert [(r["name"], r["latest_version"]) for r in listed] == [("clean", 2)]

    again = client.post(f"/api/v1/projects/{pid}/recipes", json={"name": "clean", "steps": []})
    assert again.status_code == 409 and "already has a recipe named 'clean'" in again.json()["detail"]
    assert client.get("/api/v1/recipes/999").status_code == 404


def test_bad_steps_are_rejected_and_nothing_is_stored(client: TestClient) -> None:
    pid = create_project(client)
    bad = client.post(f"/api/v1/projects/{pid}/recipes",
                      json={"name": "x", "steps": [{"op": "filter", "expr": "age >> 3"}]})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "Step 1 (filter): Expression 'age >> 3', position 6: expected a column, " \
                                   "a number, a string or '(' but found '>'"
    assert client.get(f"/api/v1/projects/{pid}/recipes").json() == []
    recipe = create_recipe(client, pid, [])
    bad = client.post(f"/api/v1/recipes/{recipe['id']}/versions", json={"steps": [{"op": "cast", "column": "a"}]})
    assert bad.status_code == 422 and "Step 1 (cast): 'to' must be one of" in bad.json()["detail"]
    chain = client.post(f"/api/v1/recipes/{recipe['id']}/versions",
                        json={"steps": [{"op": "filter", "expr": "+".join(["a"] * 999) + " > 0"}]})
    assert chain.status_code == 422 and "Step 1 (filter)" in chain.json()["detail"], chain.text
    assert client.get(f"/api/v1/recipes/{recipe['id']}").json()["latest_version"] == 1


def test_preview_before_after_with_step_counts(client: TestClient) -> None:
    pid = create_project(client)
    source = upload_frame(client, pid, dirty_frame())
    recipe = create_recipe(client, pid, CLEAN_STEPS)
    response = client.post(f"/api/v1/recipes/{recipe['id']}/preview", json={"dataset_version_id": source})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] is None and body["sample_rows"] == 8
    assert [(s["op"], s["rows_in"], s["rows_out"], s["flagged"]) for s in body["steps"]] == [
        ("cast", 8, 8, 1), ("normalize_text", 8, 8, 1), ("duplicates", 8, 7, 1), ("impute", 7, 7, 1),
        ("mask_pii", 7, 7, 4), ("derive", 7, 7, 0)]
    assert body["steps"][4]["details"]["pii"] == {"memo": {"rrn": 1, "phone": 2, "email": 1}}
    assert len(body["before"]["rows"]) == 8 and len(body["after"]["rows"]) == 7
    first = body["after"]["rows"][0]
    assert first["name"] == "김 민수" and first["memo"] == "연락처 010-****-5678" and first["age_cast_failed"] is False
    assert body["after"]["dtypes"][body["after"]["columns"].index("age")] == "Int64"

    sample = client.post(f"/api/v1/recipes/{recipe['id']}/preview",
                         json={"dataset_version_id": source, "sample_rows": 3}).json()
    assert sample["sample_rows"] == 3 and sample["steps"][0]["rows_in"] == 3
    unsaved = client.post(f"/api/v1/recipes/{recipe['id']}/preview",
                          json={"dataset_version_id": source, "steps": [{"op": "cast", "column": "age", "to": "int"}]})
    body = unsaved.json()
    assert unsaved.status_code == 200 and body["after"] is None and body["steps"] == []
    assert body["error"].startswith("Step 1 (cast) failed on column 'age': 1 value(s) cannot be read as int: "
                                    "row 3 ('n/a')")
    assert client.post(f"/api/v1/recipes/{recipe['id']}/preview",
                       json={"dataset_version_id": source, "version": 9}).status_code == 404


def test_apply_writes_a_new_version_with_lineage(client: TestClient) -> None:
    pid = create_project(client)
    source = upload_frame(client, pid, dirty_frame())
    recipe = create_recipe(client, pid, CLEAN_STEPS)
    response = client.post(f"/api/v1/recipes/{recipe['id']}/apply", json={"dataset_version_id": source})
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["output_name"] == "customers-clean"
    job = wait_job(client, started["job_id"])
    assert job["state"] == "succeeded", job["error"]
    result = job["result"]
    assert (result["rows_in"], result["rows_out"]) == (8, 7)
    assert [s["rows_out"] for s in result["steps"]] == [8, 8, 7, 7, 7, 7]
    assert wait_job(client, result["profile_job_id"])["state"] == "succeeded"
    version = client.get(f"/api/v1/dataset-versions/{result['dataset_version_id']}").json()
    assert version["row_count"] == 7
    lineage = version["lineage"]
    assert lineage["source"] == "recipe:clean v1" and lineage["parents"] == [source]
    assert lineage["recipe"]["name"] == "clean" and lineage["recipe"]["version"] == 1
    assert (lineage["rows_in"], lineage["rows_out"]) == (8, 7)
    preview = client.get(f"/api/v1/dataset-versions/{result['dataset_version_id']}/preview?limit=10").json()
    assert "주민 900101-1******" in [r["memo"] for r in preview["rows"]]
    assert all("1234567" not in (r["memo"] or "") for r in preview["rows"])

    # A second run into a named dataset, from version 1 explicitly.
    named = client.post(f"/api/v1/recipes/{recipe['id']}/apply",
                        json={"dataset_version_id": source, "version": 1, "output_name": "customers"}).json()
    result = wait_job(client, named["job_id"])["result"]
    assert result["version"] == 2  # the next version of the source dataset itself


def test_apply_failing_step_fails_the_job_and_writes_nothing(client: TestClient) -> None:
    pid = create_project(client)
    source = upload_frame(client, pid, dirty_frame())
    recipe = create_recipe(client, pid, [{"op": "duplicates"}, {"op": "cast", "column": "age", "to": "int"}])
    started = client.post(f"/api/v1/recipes/{recipe['id']}/apply", json={"dataset_version_id": source}).json()
    job = wait_job(client, started["job_id"])
    assert job["state"] == "failed"
    assert job["error"].startswith("Step 2 (cast) failed on column 'age': 1 value(s) cannot be read as int: "
                                   "row 3 ('n/a')")
    assert [d["name"] for d in client.get(f"/api/v1/projects/{pid}/datasets").json()] == ["customers"]


def test_apply_and_preview_reject_other_projects_and_missing_data(client: TestClient) -> None:
    pid = create_project(client)
    other = create_project(client, name="Other")
    foreign = upload_frame(client, other, dirty_frame())
    recipe = create_recipe(client, pid, CLEAN_STEPS)
    for action in ("apply", "preview"):
        response = client.post(f"/api/v1/recipes/{recipe['id']}/{action}", json={"dataset_version_id": foreign})
        assert response.status_code == 422 and "belongs to another project" in response.json()["detail"]
        missing = client.post(f"/api/v1/recipes/{recipe['id']}/{action}", json={"dataset_version_id": 999})
        assert missing.status_code == 404 and "Dataset version 999 does not exist" in missing.json()["detail"]
    bad_name = client.post(f"/api/v1/recipes/{recipe['id']}/apply",
                           json={"dataset_version_id": foreign, "output_name": " "})
    assert bad_name.status_code == 422
