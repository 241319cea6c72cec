"""The connection pages: add a connection with the kind-specific forms, test it, preview rows, run an ingest and
watch its job; secrets only ever show masked."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.datasets.connectors.factories import korean_csv
from tests.datasets.factories import create_project, wait_job
from tests.datasets.test_views import login


def test_add_test_preview_and_ingest_from_the_pages(client: TestClient, tmp_path: Path) -> None:
    pid = create_project(client)
    login(client)
    assert "No connections yet" in client.get(f"/projects/{pid}/_section/connections").text
    empty = client.get(f"/projects/{pid}/connections")
    assert empty.status_code == 200 and "No connections yet" in empty.text
    assert 'name="kind" value="file"' in empty.text and 'name="kind" value="sql"' in empty.text

    bad = client.post(f"/projects/{pid}/connections",
                      data={"kind": "sql", "name": "erp", "url": "sqlite://", "query": "DELETE FROM t",
                            "password": "Pw-123456"}, follow_redirects=False)
    assert bad.status_code == 422 and "must start with SELECT or WITH" in bad.text
    assert "Pw-123456" not in bad.text and "DELETE FROM t" in bad.text  # the form keeps what was typed

    export = tmp_path / "customers.csv"
    export.write_bytes(korean_csv("cp949"))
    made = client.post(f"/projects/{pid}/connections",
                       data={"kind": "file", "name": "crm", "path": str(export), "format": "auto",
                             "encoding": "auto", "header": "auto", "on_bad_rows": "fail"}, follow_redirects=False)
    assert made.status_code == 303
    page_url = made.headers["location"]
    cid = int(page_url.rsplit("/", 1)[1])
    page = client.get(page_url)
    assert page.status_code == 200 and "Test connection" in page.text and str(export) in page.text
    assert "crm" in client.get(f"/projects/{pid}/connections").text
    section = client.get(f"/projects/{pid}/_section/connections").text
    assert f'href="/connections/{cid}"' in section and "<html" not in section
    assert 'id="section-connections"' in client.get(f"/projects/{pid}/data").text

    tested = client.post(f"/connections/{cid}/_test")
    assert "Connection works" in tested.text and "이름, 나이, 주소" in tested.text and "<html" not in tested.text
    preview = client.get(f"/connections/{cid}/_preview")
    assert "홍길동" in preview.text and "Int64" in preview.text

    started = client.post(f"/connections/{cid}/_ingest", data={"dataset_name": "customers"})
    assert started.status_code == 200 and "Ingest job" in started.text
    job_id = int(re.search(r"Ingest job #(\d+)", started.text).group(1))
    assert wait_job(client, job_id)["state"] == "succeeded"
    done = client.get(f"/connections/{cid}/_job/{job_id}")
    assert "Stored version 1 of &#39;customers&#39;" in done.text and "every 1s" not in done.text
    assert "/dataset-versions/" in done.text
    assert "customers" in client.get(page_url).text  # recent ingests

    failed = client.post(f"/connections/{cid}/_ingest", data={"dataset_name": ""})
    assert failed.status_code == 422 and "Name the dataset" in failed.text

    # A database connection: its password shows masked, and a failed test explains itself.
    made = client.post(f"/projects/{pid}/connections",
                       data={"kind": "sql", "name": "erp", "url": "postgresql+psycopg://bob@127.0.0.1:1/erp",
                             "password": "Pw-123456", "table": "orders"}, follow_redirects=False)
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert "***" in page.text and "Pw-123456" not in page.text
    failed = client.post(made.headers["location"] + "/_test")
    assert "Connection failed" in failed.text and "Cannot connect" in failed.text and "Pw-123456" not in failed.text
