"""Dataset upload, versions, profiles and previews over the real app, including every bad-input case."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
from fastapi.testclient import TestClient

from tests.datasets.factories import churn_sample_tsv, create_project, upload, upload_ok, wait_job


def _stored_files(client: TestClient) -> list[Path]:
    root = Path(client.app.state.runtime.store.root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_profiles_and_versions(client: TestClient) -> None:
    pid = create_project(client)
    data = churn_sample_tsv(600)
    response = upload(client, pid, name="churn", filename="churn.tsv", data=data)
    assert response.status_code == 201, response.text
    body = response.json()
    version = body["version"]
    assert version["version"] == 1 and version["row_count"] == 600 and version["column_count"] == 21
    assert version["source_format"] == "tsv"
    assert {"name": "target", "dtype": "Int64"} in version["schema"]
    assert len(version["sha256"]) == 64 and version["size_bytes"] == len(data)
    assert version["delta_version"] == 0 and version["lineage"]["source"] == "upload:churn.tsv"

    job = wait_job(client, body["profile_job_id"])
    assert job["state"] == "succeeded", job
    profile = client.get(f"/api/v1/dataset-versions/{version['id']}/profile").json()["profile"]
    assert profile["rows"] == 600 and profile["columns"] == 21
    target = next(c for c in profile["column_profiles"] if c["name"] == "target")
    assert target["distinct"] == 2 and sum(t["count"] for t in target["top_values"]) == 600
    minutes = next(c for c in profile["column_profiles"] if c["name"] == "total day minutes")
    assert sum(minutes["histogram"]["counts"]) == 600 - minutes["missing"]

    # The same name again is version 2 of the same dataset; a comma CSV with a BOM and gzip also works.
    frame = pl.read_csv(io.BytesIO(data), separator="\t").head(50)
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    second = upload_ok(client, pid, name="churn", filename="churn.csv.gz",
                       data=gzip.compress(b"\xef\xbb\xbf" + buffer.getvalue()))
    assert second["version"]["version"] == 2 and second["version"]["row_count"] == 50
    assert second["version"]["delta_version"] == 1 and second["version"]["storage_key"] == version["storage_key"]
    assert second["version"]["schema"][0]["name"] == frame.columns[0]  # BOM stripped from the first header
    detail = client.get(f"/api/v1/datasets/{second['dataset']['id']}").json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    listed = client.get(f"/api/v1/projects/{pid}/datasets").json()
    assert [(d["name"], d["latest_version"]) for d in listed] == [("churn", 2)]

    preview = client.get(f"/api/v1/dataset-versions/{version['id']}/preview?limit=5").json()
    assert len(preview["rows"]) == 5 and preview["columns"][-1] == "target"
    assert client.get(f"/api/v1/dataset-versions/{version['id']}/preview?limit=0").status_code == 422


def test_semicolon_csv_and_parquet(client: TestClient) -> None:
    pid = create_project(client)
    semi = upload_ok(client, pid, name="semi", filename="s.csv", data=b"a;b;c\n1;x;2.5\n2;y;\n")
    assert [c["name"] for c in semi["version"]["schema"]] == ["a", "b", "c"]
    buffer = io.BytesIO()
    pl.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]}).write_parquet(buffer)
    parquet = upload_ok(client, pid, name="pq", filename="p.parquet", data=buffer.getvalue())
    assert parquet["version"]["source_format"] == "parquet" and parquet["version"]["row_count"] == 3


def test_profile_missing_is_404_with_message(client: TestClient) -> None:
    assert "does not exist" in client.get("/api/v1/dataset-versions/999/profile").json()["detail"]


BAD_UPLOADS = [
    ("empty.csv", b"", "is empty"),
    ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not UTF-8 text/CSV"),
    ("noise.csv", bytes([0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1, 0xF0, 0x28, 0x8C, 0xBC]) * 20, "not UTF-8 text/CSV"),
    ("ragged.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n", "line 3: expected 3 fields (like the header) but found 2"),
    ("dup.csv", b"a,b,a\n1,2,3\n", "duplicate column name 'a'"),
    ("blank.csv", b"a,,c\n1,2,3\n", "column 2 of the header has an empty name"),
    ("header.csv", b"a,b,c\n", "no data rows"),
    ("sheet.xlsx", b"PK\x03\x04 not really", "is not a valid .xlsx workbook"),
    ("slides.pptx", b"PK\x03\x04", "Unsupported file type '.pptx'"),
    ("rows.jsonl", b'{"a": 1}\n[1, 2]\n', "line 2: not a JSON object"),
    ("rows.json", b'{"a": ', "invalid JSON"),
    ("broken.parquet", b"PAR1 this is not parquet", "not a valid Parquet file"),
    ("bad.csv.gz", b"not gzip at all", "not a valid gzip file"),
]


def test_bad_uploads_are_rejected_and_leave_nothing(client: TestClient) -> None:
    pid = create_project(client)
    for filename, data, message in BAD_UPLOADS:
        response = upload(client, pid, name="bad", filename=filename, data=data)
        assert response.status_code == 422, (filename, response.text)
        assert message in response.json()["detail"], (filename, response.json()["detail"])
    assert client.get(f"/api/v1/projects/{pid}/datasets").json() == []
    assert client.get(f"/api/v1/jobs?project_id={pid}").json() == []
    assert _stored_files(client) == []


def test_upload_needs_write_access_and_a_name(client: TestClient) -> None:
    pid = create_project(client)
    missing_name = client.post(f"/api/v1/projects/{pid}/datasets", files={"file": ("a.csv", b"a\n1\n")})
    assert missing_name.status_code == 422 and "name" in missing_name.json()["detail"]
    blank = upload(client, pid, name="  ", filename="a.csv", data=b"a\n1\n")
    assert blank.status_code == 422 and "needs a name" in blank.json()["detail"]
    assert upload(client, 4242, name="x", filename="a.csv", data=b"a\n1\n").status_code == 404
