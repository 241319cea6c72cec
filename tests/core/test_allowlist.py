"""The allow-list refuses every way a user tried to reach the server's own files or private addresses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.app import create_app
from mlpilot.core.allowlist import AllowList, build_allowlist
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import allowlist_from_settings
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings


@pytest.fixture
def guard(tmp_path: Path) -> AllowList:
    data = tmp_path / "data"
    (data / "imports").mkdir(parents=True)
    (data / "secret.key").write_text("k")
    (data / "initial-admin-password.txt").write_text("pw")
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "ok.csv").write_text("a\n1\n")
    return build_allowlist(roots=[allowed, data / "imports"], reserved=[data / "store"], home=data,
                           imports=data / "imports")


def refused(guard: AllowList, path: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        guard.location(path, field_name="path")


def test_paths_inside_allowed_roots_pass(guard: AllowList, tmp_path: Path) -> None:
    assert guard.location(str(tmp_path / "allowed" / "ok.csv"), field_name="path")
    assert guard.location(f"file://{tmp_path / 'allowed' / '*.csv'}", field_name="path")
    assert guard.location(str(tmp_path / "data" / "imports" / "new.csv"), field_name="path")
    assert guard.location("s3://bucket/key.parquet", field_name="path") == "s3://bucket/key.parquet"


def test_the_servers_own_files_are_refused(guard: AllowList, tmp_path: Path) -> None:
    data = tmp_path / "data"
    for path in (data / "initial-admin-password.txt", data / "secret.key", data / "mlpilot.db", data,
                 data / "store" / "x", data / "imports" / ".." / "secret.key", data / "*.txt"):
        refused(guard, str(path), "mlpilot's own files")


def test_chained_unknown_and_relative_urls_are_refused(guard: AllowList, tmp_path: Path) -> None:
    refused(guard, "simplecache::mlpilot-data/initial-admin-password.txt", "chained fsspec URLs")
    refused(guard, f"simplecache::file://{tmp_path / 'allowed' / 'ok.csv'}", "chained fsspec URLs")
    refused(guard, f"zip://x.csv::file://{tmp_path / 'allowed' / 'a.zip'}", "chained fsspec URLs")
    refused(guard, "memory://x.csv", "protocol 'memory' is not allowed")
    refused(guard, "ftp://example.com/x.csv", "protocol 'ftp' is not allowed")
    refused(guard, "mlpilot-data/initial-admin-password.txt", "must be an absolute path")
    refused(guard, "file:///etc/passwd", "outside the folders an admin allows")
    refused(guard, str(tmp_path / "allowed" / ".." / "data" / "secret.key"), "mlpilot's own files")
    refused(guard, str(tmp_path / "allowed" / ".." / "elsewhere.csv"), "outside the folders")


def test_a_symlink_out_of_an_allowed_root_is_refused(guard: AllowList, tmp_path: Path) -> None:
    os.symlink(tmp_path / "data" / "secret.key", tmp_path / "allowed" / "key.csv")
    os.symlink("/etc", tmp_path / "allowed" / "etc")
    refused(guard, str(tmp_path / "allowed" / "key.csv"), "mlpilot's own files")
    refused(guard, str(tmp_path / "allowed" / "etc" / "passwd"), "outside the folders")


def test_sql_urls(guard: AllowList, tmp_path: Path) -> None:
    def bad(url: str, match: str) -> None:
        with pytest.raises(InvalidInput, match=match):
            guard.database_url(url, field_name="url")

    bad(f"sqlite:///{tmp_path / 'data' / 'mlpilot.db'}", "mlpilot's own data")
    bad("sqlite:///mlpilot-data/mlpilot.db", "mlpilot's own data|SQLite files are refused")
    bad("sqlite:///:memory:", "must name a database file")
    bad(f"sqlite:///{tmp_path / 'elsewhere.db'}", "SQLite files are refused unless an admin allows")
    bad("mysql+pymysql://u@db.example.com/x?local_infile=1", "local_infile are not allowed")
    bad("postgresql+psycopg://u@db.example.com/x?options=-c%20x&sslkey=/etc/k", "options, sslkey are not allowed")
    bad("postgresql+psycopg://u@169.254.169.254/x", "link-local address 169.254.169.254")
    guard.database_url("postgresql+psycopg://u@10.1.2.3/erp", field_name="url")  # company databases are private
    bad("oracle://u@db.example.com/x", "not supported")
    guard.database_url(f"sqlite:///{tmp_path / 'allowed' / 'erp.db'}", field_name="url")
    guard.database_url("postgresql+psycopg://u@8.8.8.8:5432/x?sslmode=require", field_name="url")


def test_outbound_addresses(guard: AllowList) -> None:
    for url, address in (("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
                         ("http://127.0.0.1:8000/", "127.0.0.1"), ("http://[::1]/", "::1"),
                         ("http://10.0.0.8/", "10.0.0.8"), ("http://localhost/", "127.0.0.1|::1"),
                         ("http://0.0.0.0/", "0.0.0.0"), ("http://224.0.0.1/", "224.0.0.1"),
                         ("http://[::ffff:127.0.0.1]/", "127.0.0.1")):
        with pytest.raises(InvalidInput, match=f"resolves to ({address}), a private"):
            guard.outbound_url(url, field_name="url")
    with pytest.raises(InvalidInput, match="http"):
        guard.outbound_url("file:///etc/passwd", field_name="url")
    guard.outbound_url("https://8.8.8.8/hook", field_name="url")
    allowed = build_allowlist(roots=[], reserved=[], hosts=["localhost"], networks=["10.0.0.0/8"])
    allowed.outbound_url("http://localhost:9/", field_name="url")
    allowed.outbound_url("http://10.1.2.3/", field_name="url")
    with pytest.raises(InvalidInput, match="resolves to 127.0.0.2"):
        allowed.outbound_url("http://127.0.0.2/", field_name="url")


def test_a_name_resolving_to_a_private_address_is_refused(tmp_path: Path) -> None:
    """DNS names are judged by what they resolve to, not by how they look."""
    def resolver(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(2, 1, 6, "", ("10.9.8.7", port))]

    guard = AllowList(resolver=resolver)
    with pytest.raises(InvalidInput, match="10.9.8.7"):
        guard.outbound_url("https://innocent.example.com/", field_name="url")


def test_attacks_through_the_api_as_a_project_member(tmp_path: Path, databases: DatabaseFactory) -> None:
    """The issue's attacks on a server with the default allow-list: every one refused with a clear message."""
    settings = make_settings(tmp_path, databases.new_url("sqlite"), sources={})
    data = settings.data_dir
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        pid = client.post("/api/v1/projects", json={"name": "attack"}).json()["id"]
        url = f"/api/v1/projects/{pid}/connections"
        for path in ("simplecache::mlpilot-data/initial-admin-password.txt",
                     f"simplecache::{data / 'initial-admin-password.txt'}", str(data / "initial-admin-password.txt"),
                     str(data / "secret.key"), str(data / "imports" / ".." / "mlpilot.db"), "/etc/passwd"):
            answer = client.post(url, json={"name": "x", "kind": "file", "settings": {"path": path}})
            assert answer.status_code == 422, (path, answer.text)
        db = client.post(url, json={"name": "db", "kind": "sql",
                                    "settings": {"url": f"sqlite:///{data / 'mlpilot.db'}", "table": "users"}})
        assert db.status_code == 422 and "own data" in db.json()["detail"]
        hook = client.post("/api/v1/notifications/subscriptions",
                           json={"name": "h", "channel": "webhook", "target": "http://169.254.169.254/x",
                                 "events": ["*"]})
        assert hook.status_code == 422 and "resolves to 169.254.169.254" in hook.json()["detail"], hook.text
        dropped = data / "imports" / "fine.csv"
        dropped.write_text("a,b\n1,2\n")
        ok = client.post(url, json={"name": "ok", "kind": "file", "settings": {"path": str(dropped)}})
        assert ok.status_code == 201, ok.text
        assert client.get(f"/api/v1/connections/{ok.json()['id']}/preview").status_code == 200
        # The file is swapped for a link to the secret key after the connection was made: refused at open.
        dropped.unlink()
        os.symlink(data / "secret.key", dropped)
        swapped = client.get(f"/api/v1/connections/{ok.json()['id']}/preview")
        assert swapped.status_code == 422 and "own files" in swapped.json()["detail"]


def test_default_allowlist_reserves_the_data_directory(tmp_path: Path, databases: DatabaseFactory) -> None:
    settings = make_settings(tmp_path, databases.new_url("sqlite"), sources={})
    guard = allowlist_from_settings(settings)
    assert guard.roots == (settings.imports_dir,)
    assert guard.is_reserved(settings.data_dir.resolve() / "store" / "x")
    assert not guard.is_reserved(settings.imports_dir / "x.csv")


def test_the_metadata_database_on_a_server_is_refused() -> None:
    guard = build_allowlist(roots=[], reserved=[], metadata_database=("127.0.0.1", 5432, "mlpilot"))
    for url in ("postgresql+psycopg://postgres@127.0.0.1:5432/mlpilot", "postgresql+psycopg://postgres@localhost/mlpilot"):
        with pytest.raises(InvalidInput, match="own metadata database"):
            guard.database_url(url, field_name="url")
    guard.database_url("postgresql+psycopg://postgres@127.0.0.1:5432/erp", field_name="url")
