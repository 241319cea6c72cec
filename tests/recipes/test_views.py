"""The recipes section of the project page, the recipe page, its preview fragment, saving versions and applying."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tests.datasets.factories import create_project, wait_job
from tests.datasets.test_views import login
from tests.recipes.factories import CLEAN_STEPS, create_recipe, dirty_frame, upload_frame


def test_section_create_page_preview_save_and_apply(client: TestClient) -> None:
    pid = create_project(client)
    login(client)
    assert 'id="section-recipes"' in client.get(f"/projects/{pid}/data").text
    empty = client.get(f"/projects/{pid}/_section/recipes")
    assert empty.status_code == 200 and "No cleaning recipes yet" in empty.text and "<html" not in empty.text

    bad = client.post(f"/projects/{pid}/recipes/new", data={"name": "clean", "steps": "[{\"op\": }]"},
                      follow_redirects=False)
    assert bad.status_code == 422 and "<html" in bad.text
    assert "The steps are not valid JSON: line 1, column 9" in bad.text
    assert "[{&#34;op&#34;: }]" in bad.text  # what the user typed is kept
    assert client.get(f"/api/v1/projects/{pid}/recipes").json() == []

    created = client.post(f"/projects/{pid}/recipes/new", data={"name": "clean", "steps": json.dumps(CLEAN_STEPS)},
                          follow_redirects=False)
    assert created.status_code == 303
    page_url = created.headers["location"]
    recipe_id = int(page_url.rsplit("/", 1)[1])
    page = client.get(page_url).text
    assert "cast age to int (on error: null)" in page and "mask personal data in memo" in page
    assert "No data to clean yet" in page
    assert "clean" in client.get(f"/projects/{pid}/_section/recipes").text

    source = upload_frame(client, pid, dirty_frame())
    page = client.get(page_url).text
    assert f'<option value="{source}">customers v1' in page
    preview = client.post(f"/recipes/{recipe_id}/_preview", data={"dataset_version_id": source, "version": 1})
    assert preview.status_code == 200 and 'id="preview-steps"' in preview.text
    counts = re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', preview.text)
    assert counts == [("8", "8"), ("8", "8"), ("8", "7"), ("7", "7"), ("7", "7"), ("7", "7")]
    assert "010-****-5678" in preview.text and "memo: rrn 1, phone 2, email 1" in preview.text

    saved = client.post(f"/recipes/{recipe_id}/versions/new",
                        data={"steps": json.dumps([{"op": "cast", "column": "age", "to": "int"}])},
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?version=2")
    failing = client.post(f"/recipes/{recipe_id}/_preview", data={"dataset_version_id": source, "version": 2})
    assert "Step 1 (cast) failed on column &#39;age&#39;" in failing.text
    invalid = client.post(f"/recipes/{recipe_id}/versions/new", data={"steps": "[{\"op\": \"nope\"}]"})
    assert invalid.status_code == 422 and "Step 1: unknown op &#39;nope&#39;" in invalid.text

    applied = client.post(f"/recipes/{recipe_id}/apply-form",
                          data={"dataset_version_id": source, "version": 1, "output_name": "tidy"},
                          follow_redirects=False)
    assert applied.status_code == 303
    job_id = int(applied.headers["location"].rsplit("job=", 1)[1])
    assert f"/recipes/{recipe_id}/_job/{job_id}" in client.get(applied.headers["location"]).text
    job = wait_job(client, job_id)
    fragment = client.get(f"/recipes/{recipe_id}/_job/{job_id}").text
    assert "succeeded" in fragment and f'/dataset-versions/{job["result"]["dataset_version_id"]}' in fragment
    assert "every 2s" not in fragment  # stops polling once finished

    failed = client.post(f"/recipes/{recipe_id}/apply-form", data={"dataset_version_id": source, "version": 2},
                         follow_redirects=False)
    failed_id = int(failed.headers["location"].rsplit("job=", 1)[1])
    assert wait_job(client, failed_id)["state"] == "failed"
    fragment = client.get(f"/recipes/{recipe_id}/_job/{failed_id}").text
    assert "row 3 (&#39;n/a&#39;)" in fragment and "Nothing was written." in fragment


def test_viewer_reads_but_gets_no_forms(client: TestClient) -> None:
    pid = create_project(client)
    recipe = create_recipe(client, pid, CLEAN_STEPS)
    client.post("/api/v1/users", json={"username": "vic", "password": "password-123", "role": "viewer"})
    client.post(f"/api/v1/projects/{pid}/members", json={"username": "vic"})
    viewer = TestClient(client.app)
    viewer.post("/login", data={"username": "vic", "password": "password-123"})
    section = viewer.get(f"/projects/{pid}/_section/recipes")
    assert section.status_code == 200 and "clean" in section.text and "Create recipe" not in section.text
    page = viewer.get(f"/recipes/{recipe['id']}")
    assert page.status_code == 200 and "Save as new version" not in page.text
    denied = viewer.post(f"/api/v1/projects/{pid}/recipes", json={"name": "x", "steps": []})
    assert denied.status_code == 403
