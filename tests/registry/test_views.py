"""Models section and model page: stages, import, export and lineage from the browser's point of view."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.dataplane.factories import make_churn_model
from tests.datasets.factories import create_project
from tests.projects.factories import login


def test_models_section_imports_stages_and_exports(client: TestClient, tmp_path: Path) -> None:
    pid = create_project(client)
    login(client)
    url = f"/projects/{pid}/_section/models"
    empty = client.get(url)
    assert empty.status_code == 200 and "No models yet" in empty.text
    assert "Import a model trained elsewhere" in empty.text
    assert "scikit-learn pickle" in empty.text  # the admin sees the trusted-only pickle option

    missing = client.post(f"{url}/import", data={"flavor": "lightgbm", "name": "x"})
    assert missing.status_code == 200 and "Choose a model file to import." in missing.text
    booster = make_churn_model(tmp_path / "churn") / "model.txt"
    done = client.post(f"{url}/import", data={"flavor": "lightgbm", "name": "booster"},
                       files={"file": ("model.txt", booster.read_bytes())})
    assert done.status_code == 200 and "booster v1 (lightgbm)" in done.text
    model_id = client.get(f"/api/v1/projects/{pid}/model-versions").json()[0]["id"]

    staged = client.post(f"{url}/{model_id}/stage", data={"stage": "production", "reason": "approved"})
    assert staged.status_code == 200 and "booster v1: production" in staged.text
    again = client.post(f"{url}/{model_id}/stage", data={"stage": "production"})
    assert "already in production" in again.text

    exported = client.post(f"{url}/{model_id}/export")
    assert exported.status_code == 200 and "ONNX → booster v2" in exported.text

    page = client.get(f"/model-versions/{model_id}")
    assert page.status_code == 200
    for text in ("booster v1", "Lineage", "model.txt", "approved", "Stage history"):
        assert text in page.text, text
    onnx_id = client.get(f"/api/v1/projects/{pid}/model-versions").json()[0]["id"]
    onnx_page = client.get(f"/model-versions/{onnx_id}")
    assert "Exported from" in onnx_page.text and f'href="/model-versions/{model_id}"' in onnx_page.text

    korean = client.get(url, cookies={"mlpilot_locale": "ko"})
    assert korean.status_code == 200
