"""Lineage and diffs of dataset versions over the real app: API, secrets never recorded, the version page."""

from __future__ import annotations

import polars as pl
import pytest
from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service
from tests.datasets.factories import create_project, upload_ok
from tests.datasets.test_views import login

SOURCE_CSV = b"id,plan,amount\n1,basic,10.5\n2,pro,20.0\n3,basic,\n4,basic,12.0\n"


def _derive(runtime: Runtime, *, project_id: int, parent_id: int, name: str = "clean",
            settings: dict | None = None) -> int:
    with session_scope(runtime.sessions) as session:
        parent = service.read_dataset_version_frame(session, store=runtime.store, version_id=parent_id)
        frame = parent.lazy().filter(pl.col("amount").is_not_null()).with_columns(
            pl.col("amount").round(0).cast(pl.Int64), region=pl.lit("kr")).drop("plan")
        lineage = {
            "source": "recipe:clean-sales v2", "connector": "sql",
            "connector_settings": settings or {}, "recipe": {"id": 7, "name": "clean-sales", "version": 2},
            "parents": [parent_id], "rows_in": parent.height, "rows_out": None, "quarantined_rows": 1,
            "watermark": "2026-11-01T00:00:00",
        }
        version, _ = service.create_dataset_version_from_frame(
            session, runtime=runtime, project_id=project_id, name=name, frame=frame, lineage=lineage, user_id=1)
        return version.id


def test_lineage_records_source_recipe_parents_and_strips_secrets(client: TestClient, runtime: Runtime) -> None:
    pid = create_project(client)
    raw = upload_ok(client, pid, name="sales", filename="sales.csv", data=SOURCE_CSV)["version"]
    settings = {"url": "postgresql://etl:s3cr3t@db.local/sales", "table": "orders", "password": "s3cr3t",
                "options": {"api_token": "abc", "chunk_rows": 1000}}
    derived_id = _derive(runtime, project_id=pid, parent_id=raw["id"], settings=settings)

    lineage = client.get(f"/api/v1/dataset-versions/{derived_id}/lineage").json()
    assert lineage["source"] == "recipe:clean-sales v2" and lineage["connector"] == "sql"
    assert lineage["recipe"] == {"id": 7, "name": "clean-sales", "version": 2}
    assert lineage["parents"] == [{"id": raw["id"], "dataset_id": raw["dataset_id"], "dataset_name": "sales",
                                   "version": 1}]
    assert (lineage["rows_in"], lineage["rows_out"], lineage["row_count"], lineage["quarantined_rows"]) == (4, 3, 3, 1)
    assert lineage["watermark"] == "2026-11-01T00:00:00" and lineage["created_by"] == "admin"
    assert lineage["connector_settings"] == {"url": "postgresql://etl:***@db.local/sales", "table": "orders",
                                             "options": {"chunk_rows": 1000}}
    version = client.get(f"/api/v1/dataset-versions/{derived_id}").json()
    assert "s3cr3t" not in str(version) and "abc" not in str(version)
    assert version["source_format"] == "recipe" and version["sha256"] is None and version["stored_bytes"] > 0

    upstream = client.get(f"/api/v1/dataset-versions/{raw['id']}/lineage").json()
    assert upstream["source"] == "upload:sales.csv" and upstream["parents"] == []
    assert [c["id"] for c in upstream["children"]] == [derived_id]
    assert upstream["rows_in"] == upstream["rows_out"] == 4
    assert client.get("/api/v1/dataset-versions/9999/lineage").status_code == 404


def test_diff_api_between_versions(client: TestClient, runtime: Runtime) -> None:
    pid = create_project(client)
    raw = upload_ok(client, pid, name="sales", filename="sales.csv", data=SOURCE_CSV)["version"]
    derived_id = _derive(runtime, project_id=pid, parent_id=raw["id"])
    response = client.get(f"/api/v1/dataset-versions/{raw['id']}/diff/{derived_id}")
    assert response.status_code == 200, response.text
    diff = response.json()
    assert (diff["a"], diff["b"]) == (raw["id"], derived_id)
    assert (diff["rows_a"], diff["rows_b"], diff["rows_change"]) == (4, 3, -1)
    assert [c["name"] for c in diff["added"]] == ["region"] and [c["name"] for c in diff["removed"]] == ["plan"]
    assert diff["type_changed"] == [{"name": "amount", "dtype_a": "Float64", "dtype_b": "Int64"}]
    amount = next(c for c in diff["columns"] if c["name"] == "amount")
    assert amount["missing_pct_a"] == 25.0 and amount["missing_pct_b"] == 0.0 and amount["notable"]
    assert client.get(f"/api/v1/dataset-versions/{raw['id']}/diff/424242").status_code == 404


def test_bad_lineage_is_refused_and_leaves_nothing(client: TestClient, runtime: Runtime) -> None:
    pid = create_project(client)
    other = create_project(client, name="Other")
    raw = upload_ok(client, pid, name="sales", filename="sales.csv", data=SOURCE_CSV)["version"]
    with pytest.raises(NotFound, match="Dataset version 98765 does not exist"):
        _derive(runtime, project_id=pid, parent_id=98765)
    with pytest.raises(InvalidInput, match=f"Parent dataset version {raw['id']} belongs to another project"):
        _derive(runtime, project_id=other, parent_id=raw["id"])
    assert [d["name"] for d in client.get(f"/api/v1/projects/{pid}/datasets").json()] == ["sales"]
    assert client.get(f"/api/v1/projects/{other}/datasets").json() == []


def test_version_page_shows_lineage_and_the_diff_with_the_previous_version(client: TestClient) -> None:
    pid = create_project(client)
    first = upload_ok(client, pid, name="sales", filename="sales.csv", data=SOURCE_CSV)["version"]
    second = upload_ok(client, pid, name="sales", filename="sales-2.csv",
                       data=b"id,plan,amount,channel\n1,basic,10.5,web\n2,enterprise,30.0,shop\n")["version"]
    login(client)
    page = client.get(f"/dataset-versions/{second['id']}").text
    assert "Lineage" in page and "upload:sales-2.csv" in page and "admin" in page
    assert f'hx-get="/dataset-versions/{first["id"]}/_diff/{second["id"]}"' in page
    first_page = client.get(f"/dataset-versions/{first['id']}").text
    assert "This is the first version" in first_page and 'hx-trigger="load"' not in first_page
    assert f'hx-get="/dataset-versions/{second["id"]}/_diff/{first["id"]}"' in first_page  # compare with v2
    fragment = client.get(f"/dataset-versions/{first['id']}/_diff/{second['id']}")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "channel" in fragment.text and "+ enterprise" in fragment.text and ">-2<" in fragment.text
