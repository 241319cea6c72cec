"""The sql connector against real SQLite, PostgreSQL and MariaDB: tables, read-only queries, chunks, watermarks,
and the refusals (writes, several statements, unreachable servers)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from mlpilot.datasets.connectors import ConnectorError
from mlpilot.datasets.connectors.sql import SqlConnector, check_read_only_query
from mlpilot.testing.connectors import check_connector
from tests.datasets.connectors.factories import (
    POSTGRES_URL,
    SOURCE_DIALECTS,
    add_orders,
    orders_table,
    source_url,
)


@pytest.fixture(params=SOURCE_DIALECTS)
def source(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return source_url(request.param, tmp_path)


def test_table_in_chunks_then_only_newer_rows(source: str) -> None:
    with orders_table(source, rows=7) as table:
        connector = SqlConnector({"url": source, "table": table, "watermark_column": "updated_at"}, {})
        assert f"table {table} has 4 column(s): id, amount, name, updated_at" in connector.test()
        chunks = list(connector.read(chunk_rows=3))
        assert [c.height for c in chunks] == [3, 3, 1]
        frame = pl.concat(chunks)
        assert frame["id"].to_list() == list(range(1, 8)) and frame["name"][0] == "고객1"
        assert frame["amount"].dtype == pl.Float64 and frame["amount"][1] == 3.0
        watermark = connector.new_watermark(frame)
        assert watermark is not None and watermark.startswith("2024-01-08")
        assert list(connector.read(watermark=watermark)) == []
        add_orders(source, table, range(8, 10))
        newer = pl.concat(list(connector.read(watermark=watermark)))
        assert newer["id"].to_list() == [8, 9]
        assert connector.new_watermark(newer).startswith("2024-01-10")


def test_query_preview_and_integer_watermark(source: str) -> None:
    with orders_table(source, rows=5) as table:
        query = f"SELECT id, name FROM {table} WHERE id >= 2 -- keep it small\n;"
        connector = SqlConnector({"url": source, "query": query, "watermark_column": "id"}, {})
        preview = connector.preview(2)
        assert preview.columns == ["id", "name"] and preview["id"].to_list() == [2, 3]
        assert pl.concat(list(connector.read(watermark="3")))["id"].to_list() == [4, 5]
        check_connector(SqlConnector, {"url": source, "table": table, "watermark_column": "id"})


def test_duplicate_column_names_and_missing_things(source: str) -> None:
    with orders_table(source, rows=2) as table:
        dup = SqlConnector({"url": source, "query": f"SELECT id, name AS id FROM {table}"}, {})
        with pytest.raises(ConnectorError, match=r"duplicate column name 'id' \(columns 1 and 2\)"):
            dup.preview()
        missing = SqlConnector({"url": source, "table": "no_such_table_x"}, {})
        with pytest.raises(ConnectorError, match="table no_such_table_x on .* cannot be read"):
            missing.test()
        bad_wm = SqlConnector({"url": source, "table": table, "watermark_column": "nope"}, {})
        with pytest.raises(ConnectorError, match="nope"):
            list(bad_wm.read())


@pytest.mark.parametrize(("query", "message"), [
    ("DELETE FROM orders", "must start with SELECT or WITH, not 'DELETE'"),
    ("SELECT 1; DROP TABLE orders", "more than one statement"),
    ("WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone", "DELETE may change data"),
    ("SELECT * INTO copy FROM orders", "INTO may change data"),
    ("SELECT * FROM orders FOR UPDATE", "UPDATE may change data"),
    (" ; ", "The query is empty"),
])
def test_only_single_select_queries(query: str, message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        SqlConnector({"url": "sqlite://", "query": query}, {})


def test_query_check_ignores_strings_comments_and_quoted_names() -> None:
    assert check_read_only_query("SELECT 'drop table x' AS t, \"update\" FROM t -- delete\n;") == \
        "SELECT 'drop table x' AS t, \"update\" FROM t -- delete"
    assert check_read_only_query("with a as (select 1 as x) select * from a")


def test_reads_run_in_a_read_only_transaction(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ro.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    connector = SqlConnector({"url": url, "table": "t"}, {})
    with connector._connection() as conn, pytest.raises(sa.exc.OperationalError, match="readonly"):
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    if POSTGRES_URL:
        # nextval() writes; PostgreSQL refuses it inside the read-only transaction the connector opens.
        pg = SqlConnector({"url": POSTGRES_URL, "query": "SELECT nextval('mlp_ro_seq') AS n"}, {})
        admin = sa.create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql("CREATE SEQUENCE IF NOT EXISTS mlp_ro_seq")
        try:
            with pytest.raises(ConnectorError, match="read-only transaction"):
                pg.preview()
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql("DROP SEQUENCE IF EXISTS mlp_ro_seq")
            admin.dispose()


def test_unreachable_database_is_a_clear_transient_error() -> None:
    connector = SqlConnector({"url": "postgresql+psycopg://reader:s3cret@127.0.0.1:1/legacy", "table": "t"}, {})
    with pytest.raises(ConnectorError) as caught:
        connector.test()
    assert caught.value.transient
    assert "Cannot connect to postgresql+psycopg://reader:***@127.0.0.1:1/legacy" in caught.value.detail
    assert "s3cret" not in caught.value.detail


def test_settings_and_secrets() -> None:
    with pytest.raises(ConnectorError, match="needs a url"):
        SqlConnector({"table": "t"}, {})
    with pytest.raises(ConnectorError, match="is not a SQLAlchemy database URL"):
        SqlConnector({"url": "not a url", "table": "t"}, {})
    with pytest.raises(ConnectorError, match="either a table or a query"):
        SqlConnector({"url": "sqlite://", "table": "t", "query": "select 1"}, {})
    with pytest.raises(ConnectorError, match="is not a table name"):
        SqlConnector({"url": "sqlite://", "table": "t; drop table x"}, {})
    settings, secrets = SqlConnector.split_secrets({"url": "mysql+pymysql://bob:p%40ss@db:3306/erp", "table": "t"}, {})
    assert settings["url"] == "mysql+pymysql://bob@db:3306/erp" and secrets == {"password": "p@ss"}
    connector = SqlConnector(settings, secrets)
    assert connector.url.password == "p@ss"
