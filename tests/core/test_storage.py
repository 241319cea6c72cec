"""The artifact store: atomic writes, failed writes leave nothing, keys cannot escape the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.storage import ArtifactStore


def test_put_and_get_bytes(store: ArtifactStore) -> None:
    digest = store.put_bytes("a/b/c.bin", b"hello")
    assert store.get_bytes("a/b/c.bin") == b"hello"
    assert len(digest) == 64
    assert store.exists("a/b/c.bin")


def test_failed_write_leaves_nothing(store: ArtifactStore) -> None:
    with pytest.raises(ValueError), store.writer("x/data.parquet") as tmp:
        tmp.write_bytes(b"partial")
        raise ValueError("crash in the middle")
    assert not store.exists("x/data.parquet")
    assert not list(store.cache_dir.glob(".upload-*"))


def test_directory_published_whole(store: ArtifactStore, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.txt").write_text("trees")
    (folder / "mlpilot-model.json").write_text("{}")
    store.put_dir("models/1", folder)
    local = store.local_path("models/1")
    assert sorted(p.name for p in local.iterdir()) == ["mlpilot-model.json", "model.txt"]
    assert not [p for p in local.parent.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "", "/"])
def test_keys_cannot_escape_the_root(store: ArtifactStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        store.put_bytes(key, b"x")


def test_missing_artifact_is_not_found(store: ArtifactStore) -> None:
    with pytest.raises(NotFound, match="missing"):
        store.get_bytes("nope")


def test_remote_style_store_uses_fsspec_memory(tmp_path: Path) -> None:
    store = ArtifactStore("memory://mlpilot-test-bucket", tmp_path / "cache")
    store.put_bytes("reports/1.html", b"<html/>")
    assert store.get_bytes("reports/1.html") == b"<html/>"
    assert store.local_path("reports/1.html").read_bytes() == b"<html/>"
