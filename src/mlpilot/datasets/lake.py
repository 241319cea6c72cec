"""The data lake: every dataset is one Delta Lake table in the artifact store; each dataset version is one Delta
table version, written atomically and read back by time travel. Pure of the metadata database.

The metadata row (DatasetVersion) is the source of truth: a Delta version that no row points to — left by a
process that died between the Delta commit and the database commit — is never shown or read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import deltalake
import polars as pl
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from mlpilot.core.errors import InvalidInput, NotFound, Unavailable
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
log = logging.getLogger(__name__)
# Local tables: Polars writes the Parquet files itself (streaming, both cores; about twice as fast as delta-rs'
# writer, and its files read back ~3x faster) and delta-rs commits them in one transaction. Snappy, Delta's
# default codec: every Delta reader supports it, and LZ4/ZSTD/none measured no faster here (the columns are
# mostly dictionary-encoded, so the codec has little left to do).
PARQUET_COMPRESSION = "snappy"
TARGET_FILE_BYTES = 128 * 2**20
# A failed Polars sink can still create a file after raising; its files are removed until it has been quiet a while.
LATE_FILE_QUIET_POLLS = 10
LATE_FILE_WAIT_S = 3.0
# Data files this module writes: part-<sequence>-<write token>.parquet; the sequence is the order of the rows.
PART_FILE = re.compile(r"^part-(\d+)-([0-9a-f]{32})\.parquet$")


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
            wider = pl.Int16 if dtype == pl.UInt8 else pl.Int32 if dtype == pl.UInt16 else pl.Int64
            casts.append(pl.col(name).cast(wider))
        elif dtype == pl.UInt64:
            casts.append(pl.col(name).cast(pl.Int64, strict=True))
        elif isinstance(dtype, pl.Duration):
            casts.append(pl.col(name).dt.total_microseconds().alias(name))
        elif isinstance(dtype, pl.Datetime) and (dtype.time_unit != "us" or dtype.time_zone not in (None, "UTC")):
            # Delta stores microseconds, either without a time zone (timestamp_ntz) or as UTC instants.
            value = pl.col(name) if dtype.time_zone in (None, "UTC") else pl.col(name).dt.convert_time_zone("UTC")
            casts.append(value.dt.cast_time_unit("us"))
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
                  label: str = "dataset", target_file_size: int | None = None, rows_per_file: int | None = None,
                  locked: bool = False) -> WrittenVersion:
    """Write `frame` as the table's next version (one atomic Delta commit); return what was committed.

    A LazyFrame is streamed batch by batch in order, so data larger than memory can be written; the rows read
    back in the order they were written. If the write fails, nothing is committed and the data files it left
    are removed. Files are cut at about `target_file_size` bytes (in memory) and at most `rows_per_file` rows.
    `locked=True` means the caller already holds table_lock (to keep it until its metadata is committed too).
    """
    uri = table_uri(store, key)
    lazy = delta_compatible(frame.lazy())
    with contextlib.nullcontext() if locked else table_lock(store, key):
        # Files that no version references can only come from a writer that died (we hold the lock).
        sweep_unreferenced_files(store, key)
        try:
            if store.is_local:
                _write_local(uri, lazy, target_file_size or TARGET_FILE_BYTES, rows_per_file)
            else:
                data: Any = (lazy.collect() if isinstance(frame, pl.DataFrame)
                             else lazy.collect_batches(maintain_order=True, lazy=True))
                deltalake.write_deltalake(uri, data, mode="overwrite", schema_mode="overwrite",
                                          configuration=TABLE_CONFIGURATION, target_file_size=target_file_size,
                                          storage_options=store.delta_options)
        except Exception as exc:
            try:
                sweep_unreferenced_files(store, key)
                if not table_versions(store, key):
                    delete_table(store, key)
            except Exception:
                # The store itself is away: nothing was committed, and the next writer sweeps what is left.
                log.warning("could not clean up the failed write of %s", key, exc_info=True)
            if not store.is_local and isinstance(exc, OSError):
                raise Unavailable(f"The data store could not be reached while writing {label!r} ({_last_line(exc)}); "
                                  "nothing was saved. Try again when the store is back.") from None
            raise InvalidInput(f"The data for {label!r} could not be written: {_first_line(exc)}") from None
        version = deltalake.DeltaTable(uri, storage_options=store.delta_options).version()
    return describe_version(store, key, version)


def _write_local(uri: str, lazy: pl.LazyFrame, target_file_bytes: int, rows_per_file: int | None) -> None:
    """Stream `lazy` into numbered Parquet files inside the table folder, then commit them as one overwrite."""
    token = uuid.uuid4().hex
    sunk: list[Any] = []
    try:
        lazy.sink_parquet(  # type: ignore[call-overload]  # polars' stubs lag its partitioned sinks
            pl.PartitionBy(uri, file_path_provider=lambda args: f"part-{args.index_in_partition:06d}-{token}.parquet",
                           approximate_bytes_per_file=target_file_bytes, max_rows_per_file=rows_per_file),
            compression=PARQUET_COMPRESSION, maintain_order=True, mkdir=True,
            sinked_paths_callback=lambda args: sunk.extend(args.paths))
    except BaseException:
        _remove_late_files(uri, token)
        raise
    now = int(time.time() * 1000)
    files = sorted(((Path(p.path).name, p) for p in sunk), key=lambda item: _part_number(item[0]))
    adds = [
        AddAction(path=name, size=int(p.num_bytes), partition_values={}, modification_time=now, data_change=True,
                  stats=json.dumps({"numRecords": int(p.num_rows)})) for name, p in files]
    schema = deltalake.Schema.from_arrow(lazy.collect_schema().to_arrow())
    if not Path(uri, LOG_DIR).is_dir():
        create_table_with_add_actions(uri, schema, adds, mode="overwrite", configuration=TABLE_CONFIGURATION)
        return
    table = deltalake.DeltaTable(uri)
    if _needs_timestamp_ntz(schema) and "timestampNtz" not in (table.protocol().reader_features or []):
        # A plain commit cannot raise the table's protocol: replace the table's definition in the same commit
        # (older versions stay readable by time travel).
        create_table_with_add_actions(uri, schema, adds, mode="overwrite", configuration=TABLE_CONFIGURATION)
    else:
        actions: list[AddAction | RemoveAction] = list(adds)
        table.create_write_transaction(actions, mode="overwrite", schema=schema)


def _remove_late_files(uri: str, token: str) -> None:
    """Remove the files of a failed sink, including ones its writer tasks still create after the error reached
    us (seen under load): poll until none has appeared for LATE_FILE_QUIET_POLLS polls in a row."""
    quiet, deadline = 0, time.monotonic() + LATE_FILE_WAIT_S
    while quiet < LATE_FILE_QUIET_POLLS and time.monotonic() < deadline:
        late = list(Path(uri).glob(f"part-*-{token}.parquet"))
        for path in late:
            path.unlink(missing_ok=True)
        quiet = 0 if late else quiet + 1
        time.sleep(0.02)


def _part_number(name: str) -> int:
    match = PART_FILE.match(name)
    if match is None:  # only this writer's files are listed; anything else is a bug, not data
        raise RuntimeError(f"unexpected data file name {name!r}")
    return int(match.group(1))


def _needs_timestamp_ntz(schema: deltalake.Schema) -> bool:
    return "timestamp_ntz" in schema.to_json()


def describe_version(store: ArtifactStore, key: str, delta_version: int) -> WrittenVersion:
    """Return rows, schema and size of one committed version."""
    uri = table_uri(store, key)
    table = deltalake.DeltaTable(uri, version=delta_version, storage_options=store.delta_options)
    actions = pl.DataFrame(table.get_add_actions(flatten=True))  # Arrow C stream, no pyarrow needed
    rows = int(actions["num_records"].sum() or 0) if actions.height else 0
    size = int(actions["size_bytes"].sum() or 0) if actions.height else 0
    schema = pl.scan_delta(uri, version=delta_version, storage_options=store.delta_options or None).collect_schema()
    return WrittenVersion(delta_version=delta_version, rows=rows, size_bytes=size, files=actions.height,
                          schema=[{"name": n, "dtype": str(t)} for n, t in schema.items()])


def scan_version(store: ArtifactStore, key: str, delta_version: int) -> pl.LazyFrame:
    """Return a lazy scan of one committed version (time travel)."""
    uri = table_uri(store, key)
    if store.is_local and not Path(uri, LOG_DIR).is_dir():
        raise NotFound(f"The Delta table {key!r} is missing from the store.")
    return pl.scan_delta(uri, version=delta_version, storage_options=store.delta_options or None)


def table_versions(store: ArtifactStore, key: str) -> list[int]:
    """Return the committed Delta version numbers of the table (empty when there is no table)."""
    if not store.is_local:
        try:
            table = deltalake.DeltaTable(table_uri(store, key), storage_options=store.delta_options)
            return list(range(table.version() + 1))
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


def _last_line(exc: BaseException) -> str:
    """The innermost cause of a chained delta-rs error (its last line, without the arrow it is drawn with)."""
    lines = [line.strip().lstrip("↳").strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for marker in ("C Data interface error: ", "Arrow error: ", "Generic DeltaTable error: "):
        text = text.split(marker)[-1] if marker in text else text
    return text.splitlines()[0] if text else type(exc).__name__
