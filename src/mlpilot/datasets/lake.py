"""The data lake: every dataset is one Delta Lake table in the artifact store; each dataset version is one Delta
table version, written atomically and read back by time travel. Pure of the metadata database.

The metadata row (DatasetVersion) is the source of truth: a Delta version that no row points to — left by a
process that died between the Delta commit and the database commit — is never shown or read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import deltalake
import polars as pl
import pyarrow as pa

from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.storage import ArtifactStore

# Dataset versions are immutable and must stay readable forever, so neither the log entries nor the data files
# of superseded versions may ever expire (Delta's defaults drop them after 30 days / 1 week).
TABLE_CONFIGURATION = {
    "delta.logRetentionDuration": "interval 36500 days",
    "delta.deletedFileRetentionDuration": "interval 36500 days",
    "delta.enableExpiredLogCleanup": "false",
}
# Object stores delta-rs reaches natively (credentials from the usual environment variables).
REMOTE_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl")
LOG_DIR = "_delta_log"


@dataclass(frozen=True)
class WrittenVersion:
    """What one committed Delta version holds."""

    delta_version: int
    rows: int
    schema: list[dict[str, str]]
    size_bytes: int
    files: int


def new_table_key(project_id: int, token: str) -> str:
    """Return the storage key of a new dataset's Delta table."""
    return f"datasets/{project_id}/{token}.delta"


def table_uri(store: ArtifactStore, key: str) -> str:
    """Return the URI delta-rs opens for the table stored under `key`."""
    path = store.path(key)  # validates the key (no '..', no empty parts)
    if store.is_local:
        return path
    protocol = store.fs.protocol if isinstance(store.fs.protocol, str) else store.fs.protocol[0]
    if protocol not in REMOTE_SCHEMES:
        raise InvalidInput(f"Datasets are stored as Delta Lake tables, which need a local folder or an "
                           f"{'/'.join(REMOTE_SCHEMES)} storage URL; the store uses {protocol!r}.")
    return f"{protocol}://{path}"


def delta_compatible(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Cast the column types Delta Lake cannot store to the nearest type it can (names the column otherwise)."""
    casts: list[pl.Expr] = []
    for name, dtype in frame.collect_schema().items():
        if isinstance(dtype, (pl.Categorical, pl.Enum)) or dtype == pl.Null or dtype == pl.Time:
            casts.append(pl.col(name).cast(pl.String))
        elif dtype in (pl.UInt8, pl.UInt16, pl.UInt32):
            casts.append(pl.col(name).cast({pl.UInt8: pl.Int16, pl.UInt16: pl.Int32, pl.UInt32: pl.Int64}[dtype]))
        elif dtype == pl.UInt64:
            casts.append(pl.col(name).cast(pl.Int64, strict=True))
        elif isinstance(dtype, pl.Duration):
            casts.append(pl.col(name).dt.total_microseconds().alias(name))
        elif isinstance(dtype, pl.Object):
            raise InvalidInput(f"Column {name!r} holds Python objects, which cannot be stored; convert it to a "
                               "text, number or date column first.")
    return frame.with_columns(casts) if casts else frame


@contextlib.contextmanager
def table_lock(store: ArtifactStore, key: str) -> Iterator[None]:
    """Hold the table's writer lock (local stores; released by the OS even when the process is killed)."""
    if not store.is_local:
        yield
        return
    lock_path = Path(store.path(key) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_version(store: ArtifactStore, key: str, frame: pl.DataFrame | pl.LazyFrame, *,
                  label: str = "dataset", target_file_size: int | None = None, locked: bool = False) -> WrittenVersion:
    """Write `frame` as the table's next version (one atomic Delta commit); return what was committed.

    A LazyFrame is streamed batch by batch in order, so data larger than memory can be written. If the write
    fails, nothing is committed and the data files it left are removed. `locked=True` means the caller already
    holds table_lock (to keep it until its metadata is committed too).
    """
    uri = table_uri(store, key)
    base = frame.lazy()
    lazy = delta_compatible(base)
    if isinstance(frame, pl.DataFrame):
        data: Any = frame if lazy is base else lazy.collect()
    else:
        data = lazy.collect_batches(maintain_order=True, lazy=True)
    with contextlib.nullcontext() if locked else table_lock(store, key):
        # Files that no version references can only come from a writer that died (we hold the lock).
        sweep_unreferenced_files(store, key)
        try:
            deltalake.write_deltalake(uri, data, mode="overwrite", schema_mode="overwrite",
                                      configuration=TABLE_CONFIGURATION, target_file_size=target_file_size)
        except Exception as exc:
            sweep_unreferenced_files(store, key)
            if not table_versions(store, key):
                delete_table(store, key)
            raise InvalidInput(f"The data for {label!r} could not be written: {_first_line(exc)}") from None
        table = deltalake.DeltaTable(uri)
        version = table.version()
    return describe_version(store, key, version)


def describe_version(store: ArtifactStore, key: str, delta_version: int) -> WrittenVersion:
    """Return rows, schema and size of one committed version."""
    uri = table_uri(store, key)
    table = deltalake.DeltaTable(uri, version=delta_version)
    actions = pl.from_arrow(pa.table(table.get_add_actions(flatten=True)))
    assert isinstance(actions, pl.DataFrame)
    rows = int(actions["num_records"].sum() or 0) if actions.height else 0
    size = int(actions["size_bytes"].sum() or 0) if actions.height else 0
    schema = pl.scan_delta(uri, version=delta_version).collect_schema()
    return WrittenVersion(delta_version=delta_version, rows=rows, size_bytes=size, files=actions.height,
                          schema=[{"name": n, "dtype": str(t)} for n, t in schema.items()])


def scan_version(store: ArtifactStore, key: str, delta_version: int) -> pl.LazyFrame:
    """Return a lazy scan of one committed version (time travel)."""
    uri = table_uri(store, key)
    if store.is_local and not Path(uri, LOG_DIR).is_dir():
        raise NotFound(f"The Delta table {key!r} is missing from the store.")
    return pl.scan_delta(uri, version=delta_version)


def table_versions(store: ArtifactStore, key: str) -> list[int]:
    """Return the committed Delta version numbers of the table (empty when there is no table)."""
    if not store.is_local:
        try:
            return list(range(deltalake.DeltaTable(table_uri(store, key)).version() + 1))
        except deltalake.exceptions.TableNotFoundError:
            return []
    log = Path(store.path(key), LOG_DIR)
    if not log.is_dir():
        return []
    return sorted(int(p.stem) for p in log.glob("*.json") if p.stem.isdigit())


def referenced_files(store: ArtifactStore, key: str) -> set[str]:
    """Return every data file any version of the table has added (local stores)."""
    files: set[str] = set()
    log = Path(store.path(key), LOG_DIR)
    for commit in sorted(log.glob("*.json")) if log.is_dir() else []:
        for line in commit.read_text(encoding="utf-8").splitlines():
            if '"add"' in line:
                action = json.loads(line).get("add")
                if action:
                    files.add(unquote(action["path"]))
    return files


def sweep_unreferenced_files(store: ArtifactStore, key: str) -> list[str]:
    """Remove data files no version references (left by a failed or killed writer); call under table_lock."""
    if not store.is_local:
        return []
    root = Path(store.path(key))
    if not root.is_dir():
        return []
    keep = referenced_files(store, key)
    removed = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(LOG_DIR + "/") and relative not in keep:
            path.unlink(missing_ok=True)
            removed.append(relative)
    return removed


def delete_table(store: ArtifactStore, key: str) -> None:
    """Remove a whole table (only for a new dataset whose first version was never recorded)."""
    if store.is_local:
        shutil.rmtree(store.path(key), ignore_errors=True)
        Path(store.path(key) + ".lock").unlink(missing_ok=True)
    else:
        store.delete(key)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for marker in ("C Data interface error: ", "Arrow error: ", "Generic DeltaTable error: "):
        text = text.split(marker)[-1] if marker in text else text
    return text.splitlines()[0] if text else type(exc).__name__
