"""The connections service on a live runtime: encrypted secrets, ingest jobs into dataset versions, incremental
runs, quarantine, schema changes and retries of an unreachable database."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import polars as pl
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from mlpilot.connections import service as connections
from mlpilot.connections.models import Connection
from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.core.secrets import seal_values, unseal_values
from mlpilot.datasets import service as datasets_service
from tests.datasets.connectors.factories import add_orders, alter_orders, korean_csv, orders_table
from tests.projects.factories import make_project, make_user


def ingest(runtime: Runtime, connection_id: int, dataset: str, user_id: int, **kw: object) -> jobs.Job:
    with session_scope(runtime.sessions) as session:
        job = connections.ingest_connection(session, runtime=runtime, connection_id=connection_id,
                                            dataset_name=dataset, user_id=user_id, **kw)
    return jobs.wait_for_job(runtime, job.id, timeout=60)


def versions_of(runtime: Runtime, project_id: int, name: str) -> list:
    with session_scope(runtime.sessions) as session:
        dataset = datasets_service.find_dataset(session, project_id=project_id, name=name)
        return [] if dataset is None else list(datasets_service.get_dataset(session, dataset_id=dataset.id).versions)


def test_secrets_are_encrypted_at_rest_with_a_generated_key(live_runtime: Runtime, tmp_path: Path) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        connection = connections.create_connection(
            session, runtime=runtime, project_id=project.id, name="erp", kind="sql",
            settings={"url": "postgresql+psycopg://reader:Top-Secret-9@db.example:5432/erp", "table": "orders"},
            secrets={"unused": ""}, user_id=user.id)
        stored = session.execute(text("SELECT settings, secrets_encrypted FROM connections WHERE id = :i"),
                                 {"i": connection.id}).one()
    assert "Top-Secret-9" not in json.dumps(stored[0]) and "Top-Secret-9" not in stored[1]
    assert connection.settings["url"] == "postgresql+psycopg://reader@db.example:5432/erp"
    assert connections.masked_secrets(connection) == {"password": "***"}
    assert unseal_values(runtime.settings, stored[1], what="x") == {"password": "Top-Secret-9"}
    key_file = runtime.settings.data_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A configured key replaces the file; a token made with another key is refused with a clear message.
    other = runtime.settings.model_copy(update={"secret_key": SecretStr("a passphrase, not a Fernet key")})
    token = seal_values(other, {"token": "t"})
    assert unseal_values(other, token, what="x") == {"token": "t"}
    with pytest.raises(InvalidInput, match="the secret key changed"):
        unseal_values(runtime.settings, token, what="x")


def test_bad_connections_are_refused(live_runtime: Runtime, tmp_path: Path) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        with pytest.raises(InvalidInput, match="No connector named 'ftp'; available: file, sql"):
            connections.create_connection(session, runtime=runtime, project_id=project.id, name="x", kind="ftp",
                                          settings={})
        with pytest.raises(InvalidInput, match="must start with SELECT or WITH"):
            connections.create_connection(session, runtime=runtime, project_id=project.id, name="x", kind="sql",
                                          settings={"url": "sqlite://", "query": "UPDATE t SET a = 1"})
        connections.create_connection(session, runtime=runtime, project_id=project.id, name="x", kind="file",
                                      settings={"path": str(tmp_path / "x.csv")})
        with pytest.raises(InvalidInput, match="already has a connection named 'x'"):
            connections.create_connection(session, runtime=runtime, project_id=project.id, name="x", kind="file",
                                          settings={"path": str(tmp_path / "y.csv")})
        assert [c.name for c in connections.list_connections(session, project_id=project.id)] == ["x"]


def test_sql_ingest_is_incremental_and_stops_on_a_schema_change(live_runtime: Runtime, tmp_path: Path) -> None:
    runtime = live_runtime
    url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    with orders_table(url, rows=5) as table, session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        connection = connections.create_connection(
            session, runtime=runtime, project_id=project.id, name="erp orders", kind="sql",
            settings={"url": url, "table": table, "watermark_column": "id"}, user_id=user.id)

        job = ingest(runtime, connection.id, "orders", user.id, chunk_rows=2)
        assert job.state == "succeeded", job.error
        assert job.result["rows_out"] == 5 and job.result["watermark"] == "5"
        [first] = versions_of(runtime, project.id, "orders")
        assert first.row_count == 5
        assert first.lineage["source"] == "connection:erp orders" and first.lineage["connector"] == "sql"
        assert first.lineage["connector_settings"]["table"] == table and first.lineage["watermark"] == "5"
        assert jobs.wait_for_job(runtime, job.result["profile_job_id"]).state == "succeeded"

        nothing = ingest(runtime, connection.id, "orders", user.id)
        assert nothing.state == "succeeded" and nothing.result["version_id"] is None
        assert "No new rows since watermark 5" in nothing.result["message"]

        add_orders(url, table, range(6, 9))
        job = ingest(runtime, connection.id, "orders", user.id)
        assert job.state == "succeeded", job.error
        second = versions_of(runtime, project.id, "orders")[-1]
        assert second.version == 2 and second.row_count == 3 and second.lineage["previous_watermark"] == "5"
        frame = datasets_service.read_dataset_version_frame(session, store=runtime.store, version_id=second.id)
        assert sorted(frame["id"].to_list()) == [6, 7, 8]
        assert connections.find_watermark(session, connection_id=connection.id, dataset_name="orders") == "8"

        alter_orders(url, table)
        add_orders_with_channel(url, table)
        changed = ingest(runtime, connection.id, "orders", user.id)
        assert changed.state == "failed"
        assert "schema changed since version 2 of dataset 'orders': new column(s) channel" in changed.error
        assert "Nothing was written" in changed.error
        assert len(versions_of(runtime, project.id, "orders")) == 2
        session.expire_all()
        assert connections.find_watermark(session, connection_id=connection.id, dataset_name="orders") == "8"


def add_orders_with_channel(url: str, table: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (9, 1.0, 'x', '2024-02-01 00:00:00', 'web')")
    engine.dispose()


def test_file_ingest_quarantines_bad_rows_into_a_side_file(live_runtime: Runtime, tmp_path: Path) -> None:
    runtime = live_runtime
    export = tmp_path / "export.csv"
    export.write_bytes(korean_csv("cp949") + "박민수,abc\r\n".encode("cp949") + "최지우,33,인천\r\n".encode("cp949"))
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        strict = connections.create_connection(session, runtime=runtime, project_id=project.id, name="strict",
                                               kind="file", settings={"path": str(export)})
        lenient = connections.create_connection(
            session, runtime=runtime, project_id=project.id, name="lenient", kind="file",
            settings={"path": str(export), "on_bad_rows": "quarantine"})
    failed = ingest(runtime, strict.id, "customers", user.id)
    assert failed.state == "failed" and "export.csv line 5: expected 3 fields" in failed.error
    assert versions_of(runtime, project.id, "customers") == []

    job = ingest(runtime, lenient.id, "customers", user.id)
    assert job.state == "succeeded", job.error
    assert job.result["quarantined_rows"] == 1 and job.result["rows_in"] == 5 and job.result["rows_out"] == 4
    [version] = versions_of(runtime, project.id, "customers")
    assert version.lineage["quarantined_rows"] == 1
    side = pl.read_parquet(runtime.store.local_path(version.lineage["quarantine_key"]))
    assert side.row(0, named=True)["line"] == 5 and side["raw"][0] == "박민수,abc"
    with session_scope(runtime.sessions) as session:
        frame = datasets_service.read_dataset_version_frame(session, store=runtime.store, version_id=version.id)
    assert frame["이름"].to_list() == ["홍길동", "김철수", "이영희", "최지우"]


def test_empty_source_writes_nothing(live_runtime: Runtime, tmp_path: Path) -> None:
    runtime = live_runtime
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    with orders_table(url, rows=0) as table, session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        connection = connections.create_connection(session, runtime=runtime, project_id=project.id, name="e",
                                                   kind="sql", settings={"url": url, "table": table})
        job = ingest(runtime, connection.id, "empty", user.id)
    assert job.state == "failed" and "The source is empty" in job.error
    assert versions_of(runtime, project.id, "empty") == []


def test_unreachable_database_is_retried_three_times(live_runtime: Runtime) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        connection = connections.create_connection(
            session, runtime=runtime, project_id=project.id, name="down", kind="sql",
            settings={"url": "postgresql+psycopg://reader:pw@127.0.0.1:1/erp", "table": "orders"})
    job = ingest(runtime, connection.id, "orders", user.id, retry_delay_s=0.01)
    assert job.state == "failed"
    assert "Cannot connect to postgresql+psycopg://reader:***@127.0.0.1:1/erp" in job.error
    assert "gave up after 4 attempts" in job.error
    assert [line.split("] ", 1)[1][:18] for line in job.log.splitlines() if "retrying in" in line] == \
        ["attempt 1 failed: ", "attempt 2 failed: ", "attempt 3 failed: "]
    assert "pw@" not in job.log and versions_of(runtime, project.id, "orders") == []


def test_the_servers_own_files_cannot_be_read(live_runtime: Runtime) -> None:
    runtime = live_runtime
    data_dir = runtime.settings.data_dir
    (data_dir / "leak.csv").write_text("a,b\n1,2\n")
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        for path in (data_dir / "secret.key", data_dir / "leak.csv", data_dir, data_dir / "*.csv"):
            with pytest.raises(InvalidInput, match="reaches mlpilot's own files"):
                connections.create_connection(session, runtime=runtime, project_id=project.id,
                                              name=str(path), kind="file", settings={"path": str(path)})
        parent = connections.create_connection(session, runtime=runtime, project_id=project.id, name="parent",
                                               kind="file", settings={"path": str(data_dir.parent / "*.csv")})
        (data_dir.parent / "ok.csv").write_text("a,b\n3,4\n")
        assert connections.preview_connection(session, runtime=runtime, connection_id=parent.id).height == 1


def test_deleting_a_connection_removes_it(live_runtime: Runtime, tmp_path: Path) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        connection = connections.create_connection(session, runtime=runtime, project_id=project.id, name="f",
                                                   kind="file", settings={"path": str(tmp_path / "f.csv")})
        connections.delete_connection(session, connection_id=connection.id)
        assert session.get(Connection, connection.id) is None
