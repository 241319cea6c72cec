"""Use cases of data connections: configure a source with encrypted secrets, test it, preview it and ingest it
into a dataset version (the `datasets.ingest` job: chunked, incremental by watermark, retried when the source is
unreachable, stopped when the source's schema changed).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.connections.models import Connection, ConnectionWatermark
from mlpilot.core import jobs
from mlpilot.core.db import get_existing, session_scope, unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.jobs import Job, JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.core.secrets import masked, seal_values, unseal_values
from mlpilot.datasets import service as datasets_service
from mlpilot.datasets.connectors import Connector, ConnectorError, QuarantinedRow, connectors
from mlpilot.projects import service as projects_service

INGEST_JOB = "datasets.ingest"
RETRIES = 3
DEFAULT_RETRY_DELAY_S = 1.0
DEFAULT_CHUNK_ROWS = 100_000
MAX_PREVIEW_ROWS = 1000

ProgressFn = Callable[[float, str], None]


# Connections --------------------------------------------------------------------------------------------------

def list_connector_kinds() -> list[str]:
    """Return the registered connector kinds."""
    return connectors.names()


def connector_class(kind: str) -> type[Connector]:
    """Return the connector class registered as `kind`."""
    try:
        return connectors.get(kind)
    except NotFound as exc:
        raise InvalidInput(exc.detail) from None


def list_connections(session: Session, *, project_id: int) -> list[Connection]:
    """Return the project's connections, by name."""
    stmt = select(Connection).where(Connection.project_id == project_id).order_by(Connection.name)
    return list(session.scalars(stmt))


def get_connection(session: Session, *, connection_id: int) -> Connection:
    """Return connection `connection_id`."""
    return get_existing(session, Connection, connection_id, "Connection")


def find_connection(session: Session, *, project_id: int, name: str) -> Connection | None:
    """Return the project's connection called `name`, if any."""
    return session.scalar(select(Connection).where(Connection.project_id == project_id, Connection.name == name))


def create_connection(session: Session, *, runtime: Runtime, project_id: int, name: str, kind: str,
                      settings: dict[str, Any], secrets: dict[str, Any] | None = None,
                      user_id: int | None = None) -> Connection:
    """Record a connection after checking its settings; secrets (also those found in settings) are encrypted."""
    projects_service.get_project(session, project_id=project_id)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A connection needs a name.")
    if len(name) > 200:
        raise InvalidInput("The connection name is longer than 200 characters.")
    cls = connector_class(kind)
    if not isinstance(settings, dict) or not isinstance(secrets or {}, dict):
        raise InvalidInput("settings and secrets must be JSON objects.")
    split = getattr(cls, "split_secrets", None)
    if split is not None:
        settings, secrets = split(settings, secrets or {})
    else:
        secrets = dict(secrets or {})
        for secret in cls.secret_fields:
            if secret in settings:
                secrets[secret] = settings.pop(secret)
    secrets = {k: v for k, v in secrets.items() if v not in (None, "", {})}
    # Validates the settings, naming any that is wrong, and refuses a source outside the admin's allow-list.
    cls(settings, secrets).check_allowed(runtime.allowlist)
    with unit_of_work(session):
        if find_connection(session, project_id=project_id, name=name) is not None:
            raise InvalidInput(f"The project already has a connection named {name!r}; choose another name.")
        connection = Connection(project_id=project_id, name=name, kind=kind, settings=settings,
                                secrets_encrypted=seal_values(runtime.settings, secrets),
                                secret_names=sorted(secrets), created_by_id=user_id)
        session.add(connection)
        session.flush()
    return connection


def delete_connection(session: Session, *, connection_id: int) -> None:
    """Delete a connection and its watermarks (the datasets it produced stay)."""
    with unit_of_work(session):
        session.delete(get_connection(session, connection_id=connection_id))


def masked_secrets(connection: Connection) -> dict[str, str]:
    """Return the connection's secret names, each with a masked value."""
    return masked(connection.secret_names or [])


def open_connector(session: Session, *, runtime: Runtime, connection_id: int) -> Connector:
    """Return a connector instance for the connection, with its secrets decrypted."""
    connection = get_connection(session, connection_id=connection_id)
    secrets = unseal_values(runtime.settings, connection.secrets_encrypted,
                            what=f"secrets of connection {connection.name!r}")
    connector = connector_class(connection.kind)(dict(connection.settings), secrets)
    connector.limits = runtime.settings.limits.as_limits()
    # Checked again at open: the allow-list or the file system may have changed since the connection was made.
    connector.check_allowed(runtime.allowlist)
    return connector


def test_connection(session: Session, *, runtime: Runtime, connection_id: int) -> str:
    """Check the connection's source can be reached and read; return a one-line summary."""
    return open_connector(session, runtime=runtime, connection_id=connection_id).test()


def preview_connection(session: Session, *, runtime: Runtime, connection_id: int, limit: int = 20) -> pl.DataFrame:
    """Return the first `limit` rows of the connection's source."""
    if not 1 <= limit <= MAX_PREVIEW_ROWS:
        raise InvalidInput(f"limit must be between 1 and {MAX_PREVIEW_ROWS}; got {limit}.")
    return open_connector(session, runtime=runtime, connection_id=connection_id).preview(limit).head(limit)


def find_watermark(session: Session, *, connection_id: int, dataset_name: str) -> str | None:
    """Return the watermark the last ingest of this connection into `dataset_name` reached, if any."""
    row = session.scalar(select(ConnectionWatermark).where(ConnectionWatermark.connection_id == connection_id,
                                                           ConnectionWatermark.dataset_name == dataset_name))
    return row.watermark if row is not None else None


def ingest_connection(session: Session, *, runtime: Runtime, connection_id: int, dataset_name: str,
                      user_id: int | None, retry_delay_s: float = DEFAULT_RETRY_DELAY_S,
                      chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Job:
    """Start the job that ingests the connection's source as the next version of dataset `dataset_name`."""
    connection = get_connection(session, connection_id=connection_id)
    dataset_name = _check_dataset_name(dataset_name)
    if chunk_rows < 1:
        raise InvalidInput(f"chunk_rows must be at least 1; got {chunk_rows}.")
    with unit_of_work(session):
        return jobs.create_job(
            session, runtime=runtime, kind=INGEST_JOB, user_id=user_id, project_id=connection.project_id,
            params={"connection_id": connection.id, "dataset_name": dataset_name,
                    "retry_delay_s": max(0.0, float(retry_delay_s)), "chunk_rows": int(chunk_rows)},
            message="ingest queued",
        )


def _check_dataset_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Name the dataset to ingest into (dataset_name).")
    if len(name) > 200:
        raise InvalidInput("The dataset name is longer than 200 characters.")
    return name


# Ingest -------------------------------------------------------------------------------------------------------

@dataclass
class ExtractedData:
    """Rows read from a connection, spooled to local Parquet files: a lazy frame over them plus what was seen."""

    frame: pl.LazyFrame | None
    rows: int
    quarantined: list[QuarantinedRow]
    previous_watermark: str | None
    watermark: str | None
    workdir: Path


@dataclass
class IngestResult:
    """What one ingest did: the version written (None when there was nothing new) and the counts."""

    version_id: int | None
    profile_job_id: int | None
    rows_in: int
    rows_out: int
    quarantined_rows: int
    watermark: str | None
    message: str
    quarantine_key: str | None = None


def extract_connection(session: Session, *, runtime: Runtime, connection_id: int, dataset_name: str,
                       workdir: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                       progress: ProgressFn | None = None) -> ExtractedData:
    """Read the connection's new rows (after its last watermark for this dataset) into Parquet under `workdir`."""
    connector = open_connector(session, runtime=runtime, connection_id=connection_id)
    previous = find_watermark(session, connection_id=connection_id, dataset_name=dataset_name)
    files: list[Path] = []
    rows = 0
    for number, chunk in enumerate(connector.read(watermark=previous, chunk_rows=chunk_rows)):
        if chunk.height == 0:
            continue
        path = workdir / f"chunk-{number:06d}.parquet"
        chunk.write_parquet(path)
        files.append(path)
        rows += chunk.height
        if progress is not None:
            progress(min(0.7, 0.05 + 0.65 * (1 - 1 / (2 + number))), f"read {rows:,} rows")
    quarantined = list(getattr(connector, "quarantined", []) or [])
    if not files:
        if previous is None and not quarantined:
            raise ConnectorError("The source is empty: it returned no rows.")
        return ExtractedData(None, 0, quarantined, previous, previous, workdir)
    frame = pl.concat([pl.scan_parquet(p) for p in files], how="vertical_relaxed")
    watermark = connector.new_watermark(frame) or previous
    return ExtractedData(frame, rows, quarantined, previous, watermark, workdir)


def schema_changes(previous: list[dict[str, Any]], current: dict[str, pl.DataType]) -> list[str]:
    """Describe how `current` differs from a stored version schema: missing, new and retyped columns."""
    before = {c["name"]: str(c["dtype"]) for c in previous}
    changes = []
    missing = [n for n in before if n not in current]
    added = [n for n in current if n not in before]
    if missing:
        changes.append(f"missing column(s) {', '.join(missing)}")
    if added:
        changes.append(f"new column(s) {', '.join(added)}")
    retyped = [f"{n} ({before[n]} → {current[n]})" for n in before if n in current
               and not _same_family(before[n], str(current[n]))]
    if retyped:
        changes.append(f"changed type: {', '.join(retyped)}")
    return changes


def _family(dtype: str) -> str:
    if dtype.startswith(("Int", "UInt", "Float", "Decimal")):
        return "number"
    if dtype.startswith(("String", "Utf8", "Categorical", "Enum")):
        return "text"
    if dtype.startswith(("Datetime", "Date", "Time", "Duration")):
        return "time"
    return dtype


def _same_family(a: str, b: str) -> bool:
    return "Null" in (a, b) or _family(a) == _family(b)


def ingest_connection_now(session: Session, *, runtime: Runtime, connection_id: int, dataset_name: str,
                          user_id: int | None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                          progress: ProgressFn | None = None) -> IngestResult:
    """Ingest the connection's new rows as the next version of `dataset_name` now (the job's body).

    Nothing is written when the source's schema differs from the dataset's latest version; quarantined rows go
    to a side Parquet file in the store, named in the version's lineage.
    """
    connection = get_connection(session, connection_id=connection_id)
    dataset_name = _check_dataset_name(dataset_name)
    workdir = Path(tempfile.mkdtemp(prefix="mlpilot-ingest-"))
    quarantine_key: str | None = None
    try:
        extracted = extract_connection(session, runtime=runtime, connection_id=connection_id,
                                       dataset_name=dataset_name, workdir=workdir, chunk_rows=chunk_rows,
                                       progress=progress)
        quarantined = len(extracted.quarantined)
        if extracted.frame is None:
            message = (f"No new rows since watermark {extracted.previous_watermark}; no version written."
                       if extracted.previous_watermark else "No rows to ingest; no version written.")
            return IngestResult(None, None, quarantined, 0, quarantined, extracted.watermark, message)
        schema = dict(extracted.frame.collect_schema())
        dataset = datasets_service.find_dataset(session, project_id=connection.project_id, name=dataset_name)
        versions = datasets_service.get_dataset(session, dataset_id=dataset.id).versions if dataset else []
        latest = versions[-1] if versions else None
        if latest is not None:
            changes = schema_changes(latest.schema, schema)
            if changes:
                raise InvalidInput(
                    f"The source's schema changed since version {latest.version} of dataset {dataset_name!r}: "
                    f"{'; '.join(changes)}. Nothing was written; ingest into a new dataset name or fix the source."
                )
        if progress is not None:
            progress(0.75, f"writing {extracted.rows:,} rows")
        if extracted.quarantined:
            quarantine_key = f"quarantine/{connection.project_id}/{connection.id}-{uuid.uuid4().hex}.parquet"
            with runtime.store.writer(quarantine_key) as tmp:
                quarantine_frame(extracted.quarantined).write_parquet(tmp)
        lineage: dict[str, Any] = {
            "source": f"connection:{connection.name}", "connector": connection.kind,
            "connector_settings": dict(connection.settings), "recipe": None, "parents": [],
            "rows_in": extracted.rows + quarantined, "rows_out": extracted.rows, "quarantined_rows": quarantined,
            "watermark": extracted.watermark, "previous_watermark": extracted.previous_watermark,
            "connection_id": connection.id, "quarantine_key": quarantine_key,
        }
        with unit_of_work(session):
            version, profile_job_id = datasets_service.create_dataset_version_from_frame(
                session, runtime=runtime, project_id=connection.project_id, name=dataset_name,
                frame=extracted.frame, lineage=lineage, user_id=user_id)
            if extracted.watermark is not None:
                _store_watermark(session, connection_id=connection.id, dataset_name=dataset_name,
                                 watermark=extracted.watermark, version_id=version.id)
    except BaseException:
        if quarantine_key is not None:
            runtime.store.delete(quarantine_key)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    message = (f"Stored version {version.version} of {dataset_name!r}: {version.row_count:,} rows"
               + (f", {quarantined} malformed row(s) quarantined" if quarantined else "") + ".")
    return IngestResult(version.id, profile_job_id, extracted.rows + quarantined, version.row_count, quarantined,
                        extracted.watermark, message, quarantine_key)


def _store_watermark(session: Session, *, connection_id: int, dataset_name: str, watermark: str,
                     version_id: int) -> None:
    row = session.scalar(select(ConnectionWatermark).where(ConnectionWatermark.connection_id == connection_id,
                                                           ConnectionWatermark.dataset_name == dataset_name))
    if row is None:
        session.add(ConnectionWatermark(connection_id=connection_id, dataset_name=dataset_name, watermark=watermark,
                                        dataset_version_id=version_id))
    else:
        row.watermark, row.dataset_version_id, row.updated_at = watermark, version_id, utcnow()
    session.flush()


def quarantine_frame(rows: list[QuarantinedRow]) -> pl.DataFrame:
    """The quarantined rows as a table: source, line, raw text and reason."""
    return pl.DataFrame({"source": [r.source for r in rows], "line": [r.line for r in rows],
                         "raw": [r.raw for r in rows], "reason": [r.reason for r in rows]},
                        schema={"source": pl.String, "line": pl.Int64, "raw": pl.String, "reason": pl.String})


@job_handler(INGEST_JOB)
def _run_ingest_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    delay = float(params.get("retry_delay_s", DEFAULT_RETRY_DELAY_S))
    for attempt in range(RETRIES + 1):
        try:
            with session_scope(ctx.runtime.sessions) as session:
                ctx.progress(0.02, "connecting", force=True)
                result = ingest_connection_now(
                    session, runtime=ctx.runtime, connection_id=int(params["connection_id"]),
                    dataset_name=str(params["dataset_name"]), user_id=ctx.user_id,
                    chunk_rows=int(params.get("chunk_rows", DEFAULT_CHUNK_ROWS)), progress=ctx.progress)
            break
        except ConnectorError as exc:
            if not exc.transient:
                raise
            if attempt == RETRIES:
                raise ConnectorError(f"{exc.detail} (gave up after {RETRIES + 1} attempts)") from None
            wait = delay * 2 ** attempt
            ctx.log(f"attempt {attempt + 1} failed: {exc.detail}; retrying in {wait:g} s")
            ctx.progress(0.0, f"retrying in {wait:g} s", force=True)
            time.sleep(wait)
    ctx.log(result.message)
    return {"version_id": result.version_id, "profile_job_id": result.profile_job_id, "rows_in": result.rows_in,
            "rows_out": result.rows_out, "quarantined_rows": result.quarantined_rows,
            "watermark": result.watermark, "message": result.message, "quarantine_key": result.quarantine_key}
