"""An S3-compatible store: moto's server, started by the tests as a real HTTP endpoint on this machine, holds the
datasets (Delta tables), model artifacts and reports of a whole installation; a second machine reads them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import polars as pl
import pytest
from fastapi.testclient import TestClient

from mlpilot.app import create_app
from mlpilot.core.errors import NotFound
from mlpilot.core.storage import ArtifactStore, S3Options
from mlpilot.datasets import lake
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings
from tests.datasets.factories import churn_sample_tsv, create_project, upload, upload_ok, wait_job
from tests.serving.factories import deploy

KEY_ID, SECRET, REGION = "mlpilot-test", "mlpilot-test-secret", "us-east-1"


class S3Server:
    """A moto S3 server on a free loopback port."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def new_bucket(self) -> str:
        name = f"mlpilot-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def client(self):  # type: ignore[no-untyped-def]
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY_ID,
                            aws_secret_access_key=SECRET, region_name=REGION)

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket).get("Contents", [])
        return [item["Key"] for item in listed]

    def options(self) -> S3Options:
        return S3Options(endpoint_url=self.endpoint, access_key_id=KEY_ID, secret_access_key=SECRET, region=REGION)

    def settings(self, bucket: str) -> dict[str, object]:
        return {"url": f"s3://{bucket}/mlpilot", "endpoint_url": self.endpoint, "access_key_id": KEY_ID,
                "secret_access_key": SECRET, "region": REGION}


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.server.stop()


def test_the_store_contract_holds_on_s3_and_a_second_machine_reads_what_the_first_wrote(
        s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.new_bucket()
    first = ArtifactStore(f"s3://{bucket}/root", tmp_path / "cache-a", s3=s3.options())
    assert not first.is_local
    digest = first.put_bytes("reports/1/status.pdf", b"%PDF-1.7 ...")
    assert len(digest) == 64 and first.get_bytes("reports/1/status.pdf") == b"%PDF-1.7 ..."
    with pytest.raises(ValueError), first.writer("reports/2/half.pdf") as tmp:
        tmp.write_bytes(b"half a document")
        raise ValueError("the render failed halfway")
    assert not first.exists("reports/2/half.pdf")
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.txt").write_text("trees")
    (model / "mlpilot-model.json").write_text("{}")
    first.put_dir("models/7", model)
    assert sorted(s3.keys(bucket)) == ["root/models/7/mlpilot-model.json", "root/models/7/model.txt",
                                       "root/reports/1/status.pdf"]

    second = ArtifactStore(f"s3://{bucket}/root", tmp_path / "cache-b", s3=s3.options())
    fetched = second.local_path("models/7")
    assert fetched.is_relative_to(tmp_path / "cache-b") and (fetched / "model.txt").read_text() == "trees"
    with pytest.raises(NotFound, match="missing"):
        second.get_bytes("reports/2/half.pdf")


def test_delta_tables_on_s3_keep_every_version_for_time_travel(s3: S3Server, tmp_path: Path) -> None:
    store = ArtifactStore(f"s3://{s3.new_bucket()}/lake", tmp_path / "cache", s3=s3.options())
    key = "datasets/1/churn.delta"
    first = lake.write_version(store, key, pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    second = lake.write_version(store, key, pl.DataFrame({"a": [3, 4, 5], "b": ["p", "q", "r"]}).lazy())
    assert (first.delta_version, first.rows, second.delta_version, second.rows) == (0, 2, 1, 3)
    assert lake.table_versions(store, key) == [0, 1]
    assert lake.scan_version(store, key, 0).collect()["a"].to_list() == [1, 2]
    reader = ArtifactStore(store.fs.unstrip_protocol(store.root), tmp_path / "other", s3=s3.options())
    assert lake.scan_version(reader, key, 1).collect()["b"].to_list() == ["p", "q", "r"]
    assert lake.describe_version(reader, key, 1).schema == [{"name": "a", "dtype": "Int64"},
                                                             {"name": "b", "dtype": "String"}]


def test_an_installation_on_s3_keeps_nothing_on_the_local_disk_and_serves_from_it(
        s3: S3Server, tmp_path: Path, databases: DatabaseFactory, dialect: str) -> None:
    bucket = s3.new_bucket()
    settings = make_settings(tmp_path, databases.new_url(dialect), storage=s3.settings(bucket))
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        pid = create_project(client)
        version = upload_ok(client, pid, name="churn", filename="churn.tsv", data=churn_sample_tsv(300))["version"]
        started = client.post(f"/api/v1/projects/{pid}/runs", json={
            "time_budget_s": 2, "dataset_version_id": version["id"], "target": "target", "task": "binary",
            "engine": "lightgbm"})
        assert started.status_code == 202, started.text
        assert wait_job(client, started.json()["job_id"], timeout=120)["state"] == "succeeded"
        listed = client.get(f"/api/v1/projects/{pid}/model-versions").json()[0]
        model = client.get(f"/api/v1/model-versions/{listed['id']}").json()
        deploy(client, project_id=pid, name="churn", model_version_id=model["id"])
        signature = model["signature"]["inputs"]
        inputs = [{"name": c["name"], "shape": [1], "datatype": "BYTES" if c["dtype"] == "string" else "FP64",
                   "data": [c["categories"][0] if c["dtype"] == "string" else 1.0]} for c in signature]
        assert client.post("/v2/models/churn/infer", json={"inputs": inputs}).status_code == 200

        keys = s3.keys(bucket)
        assert any(k.startswith("mlpilot/datasets/") and "/_delta_log/" in k for k in keys), keys
        assert "mlpilot/runs/1/model/model.txt" in keys, keys
        local_store = settings.data_dir / "store"
        assert not local_store.exists() or not any(p.is_file() for p in local_store.rglob("*"))

        # The store goes away: the loaded model keeps answering; new data fails with the reason, not a 500.
        s3.server.stop()
        try:
            assert client.post("/v2/models/churn/infer", json={"inputs": inputs}).status_code == 200
            refused = upload(client, pid, name="more", filename="more.tsv", data=churn_sample_tsv(50))
            assert refused.status_code in (422, 503), refused.text
            assert "store" in refused.text.lower() or "could not" in refused.text.lower(), refused.text
        finally:
            s3.server.start()
