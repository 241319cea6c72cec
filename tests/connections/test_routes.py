"""Connections over the real app: create, read with masked secrets, test, preview, ingest → job → version, and
the bad requests with their messages."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.datasets.connectors.factories import korean_csv, orders_table
from tests.datasets.factories import create_project, wait_job


def test_file_connection_from_create_to_ingested_version(client: TestClient, tmp_path: Path) -> None:
    pid = create_project(client)
    export = tmp_path / "customers.csv"
    export.write_bytes(korean_csv("cp949"))
    created = client.post(f"/api/v1/projects/{pid}/connections",
                          json={"name": "crm export", "kind": "file", "settings": {"path": str(export)}})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert [c["name"] for c in client.get(f"/api/v1/projects/{pid}/connections").json()] == ["crm export"]

    tested = client.post(f"/api/v1/connections/{cid}/test").json()
    assert tested["ok"] and "3 column(s): 이름, 나이, 주소" in tested["message"]
    preview = client.get(f"/api/v1/connections/{cid}/preview?limit=2").json()
    assert preview["columns"] == ["이름", "나이", "주소"] and preview["rows"][0]["이름"] == "홍길동"
    assert len(preview["rows"]) == 2 and preview["dtypes"][1] == "Int64"
    assert client.get(f"/api/v1/connections/{cid}/preview?limit=0").status_code == 422

    started = client.post(f"/api/v1/connections/{cid}/ingest", json={"dataset_name": "customers"})
    assert started.status_code == 202, started.text
    job = wait_job(client, started.json()["job_id"])
    assert job["state"] == "succeeded", job["error"]
    version = client.get(f"/api/v1/dataset-versions/{job['result']['version_id']}").json()
    assert version["row_count"] == 3
    rows = client.get(f"/api/v1/dataset-versions/{version['id']}/preview").json()["rows"]
    assert [r["이름"] for r in rows] == ["홍길동", "김철수", "이영희"]
    assert wait_job(client, job["result"]["profile_job_id"])["state"] == "succeeded"


def test_sql_connection_secrets_never_leave_the_server(client: TestClient, tmp_path: Path) -> None:
    pid = create_project(client)
    url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    with orders_table(url, rows=3) as table:
        body = {"name": "erp", "kind": "sql",
                "settings": {"url": "postgresql+psycopg://reader:Hunter2-pw@127.0.0.1:1/erp", "table": table},
                "secrets": {"password": "Hunter2-pw"}}
        created = client.post(f"/api/v1/projects/{pid}/connections", json=body)
        assert created.status_code == 201, created.text
        read = client.get(f"/api/v1/connections/{created.json()['id']}")
        for response in (created, read, client.get(f"/api/v1/projects/{pid}/connections")):
            assert "Hunter2-pw" not in response.text
        assert read.json()["secrets"] == {"password": "***"}
        assert read.json()["settings"]["url"] == "postgresql+psycopg://reader@127.0.0.1:1/erp"
        down = client.post(f"/api/v1/connections/{created.json()['id']}/test").json()
        assert not down["ok"] and "Cannot connect to postgresql+psycopg://reader:***@127.0.0.1:1/erp" in down["message"]
        assert "Hunter2-pw" not in down["message"]

        local = client.post(f"/api/v1/projects/{pid}/connections",
                            json={"name": "local", "kind": "sql", "settings": {"url": url, "query":
                                  f"SELECT id, name FROM {table}"}}).json()
        assert client.post(f"/api/v1/connections/{local['id']}/test").json()["ok"]
        job = wait_job(client, client.post(f"/api/v1/connections/{local['id']}/ingest",
                                           json={"dataset_name": "orders"}).json()["job_id"])
        assert job["state"] == "succeeded" and job["result"]["rows_out"] == 3


def test_bad_requests_are_refused_with_messages(client: TestClient, tmp_path: Path) -> None:
    pid = create_project(client)
    url = f"/api/v1/projects/{pid}/connections"
    unknown = client.post(url, json={"name": "x", "kind": "ftp", "settings": {}})
    assert unknown.status_code == 422 and "No connector named 'ftp'" in unknown.json()["detail"]
    write = client.post(url, json={"name": "x", "kind": "sql",
                                   "settings": {"url": "sqlite://", "query": "DROP TABLE t"}})
    assert write.status_code == 422 and "must start with SELECT or WITH" in write.json()["detail"]
    typo = client.post(url, json={"name": "x", "kind": "file", "settings": {"file": "/x.csv"}})
    assert typo.status_code == 422 and "Unknown file connector setting(s) file" in typo.json()["detail"]
    assert client.get(f"/api/v1/projects/{pid}/connections").json() == []
    assert client.get("/api/v1/connections/999999").status_code == 404
    created = client.post(url, json={"name": "gone", "kind": "file",
                                     "settings": {"path": str(tmp_path / "nonexistent" / "x.csv")}}).json()
    missing = client.post(f"/api/v1/connections/{created['id']}/test").json()
    assert not missing["ok"] and "does not exist" in missing["message"]
    preview = client.get(f"/api/v1/connections/{created['id']}/preview")
    assert preview.status_code == 422 and "does not exist" in preview.json()["detail"]
    blank = client.post(f"/api/v1/connections/{created['id']}/ingest", json={"dataset_name": ""})
    assert blank.status_code == 422
    assert client.get("/api/v1/connector-kinds").json() == ["file", "sql"]
    assert client.delete(f"/api/v1/connections/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/connections/{created['id']}").status_code == 404
