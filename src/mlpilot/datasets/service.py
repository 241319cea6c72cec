"""Use cases of the datasets domain: ingest an upload as a new immutable version, profile it, read it back."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, selectinload

from mlpilot.accounts import service as accounts_service
from mlpilot.core import jobs
from mlpilot.core.db import get_existing, in_unit_of_work, session_scope, unit_of_work
from mlpilot.core.errors import N_, InvalidInput, NotFound
from mlpilot.core.jobs import JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import diff, ingest, lake, profiling
from mlpilot.datasets.models import Dataset, DatasetProfile, DatasetVersion
from mlpilot.datasets.schemas import LineageParent, LineageRead
from mlpilot.projects import service as projects_service

PROFILE_JOB = "datasets.profile"
MAX_PREVIEW_ROWS = 1000
NEW_TABLES_KEY = "mlpilot_new_delta_tables"
URL_PASSWORD = re.compile(r"(://[^:/@\s]+):[^@/\s]*@")


def list_datasets(session: Session, *, project_id: int) -> list[Dataset]:
    """Return the project's datasets with their versions, by name."""
    stmt = (select(Dataset).where(Dataset.project_id == project_id).options(selectinload(Dataset.versions))
            .order_by(Dataset.name))
    return list(session.scalars(stmt))


def get_dataset(session: Session, *, dataset_id: int) -> Dataset:
    """Return dataset `dataset_id` with its versions."""
    return get_existing(session, Dataset, dataset_id, "Dataset", options=[selectinload(Dataset.versions)])


def find_dataset(session: Session, *, project_id: int, name: str) -> Dataset | None:
    """Return the project's dataset called `name`, if any."""
    return session.scalar(select(Dataset).where(Dataset.project_id == project_id, Dataset.name == name))


def get_dataset_version(session: Session, *, version_id: int) -> DatasetVersion:
    """Return dataset version `version_id` (its dataset is loaded too)."""
    return get_existing(session, DatasetVersion, version_id, "Dataset version",
                        options=[selectinload(DatasetVersion.dataset)])


def list_latest_versions(session: Session, *, project_id: int) -> list[DatasetVersion]:
    """Return the newest version of each of the project's datasets, by dataset name."""
    return [d.versions[-1] for d in list_datasets(session, project_id=project_id) if d.versions]


def list_project_versions(session: Session, *, project_id: int) -> list[DatasetVersion]:
    """Return every version of the project's datasets, newest first."""
    stmt = (select(DatasetVersion).join(Dataset).where(Dataset.project_id == project_id)
            .options(selectinload(DatasetVersion.dataset)).order_by(DatasetVersion.id.desc()))
    return list(session.scalars(stmt))


def create_dataset_version(session: Session, *, runtime: Runtime, project_id: int, name: str, filename: str,
                           data: bytes, user_id: int | None, description: str = "") -> tuple[DatasetVersion, int]:
    """Parse an upload and record it as the dataset's next version; return it and the profile job id."""
    projects_service.get_project(session, project_id=project_id)
    _check_name(name)
    filename = (filename or "").strip() or "upload"
    parsed = ingest.parse_upload(filename, data, limits=runtime.settings.limits.as_limits())
    lineage: dict[str, Any] = {
        "source": f"upload:{filename}", "connector": None, "connector_settings": {}, "recipe": None,
        "parents": [], "rows_in": parsed.frame.height, "rows_out": parsed.frame.height,
        "quarantined_rows": 0, "watermark": None, "format": parsed.source_format,
        "encoding": parsed.encoding, "delimiter": parsed.delimiter,
        "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    return create_dataset_version_from_frame(session, runtime=runtime, project_id=project_id, name=name,
                                             frame=parsed.frame, lineage=lineage, user_id=user_id,
                                             description=description)


def create_dataset_version_from_frame(session: Session, *, runtime: Runtime, project_id: int, name: str,
                                      frame: pl.DataFrame | pl.LazyFrame, lineage: dict[str, Any],
                                      user_id: int | None, description: str = "") -> tuple[DatasetVersion, int]:
    """Write a frame as the next immutable version of dataset `name`; return it and the profile job id.

    The Delta commit comes first and the metadata commit last: if the metadata cannot be committed, the Delta
    version stays unreferenced (a new dataset's table is removed), and unreferenced versions are never read.
    """
    projects_service.get_project(session, project_id=project_id)
    name = _check_name(name)
    lineage = _clean_lineage(session, project_id=project_id, lineage=lineage)
    if isinstance(frame, pl.DataFrame) and (frame.height == 0 or frame.width == 0):
        raise InvalidInput(f"The data for dataset {name!r} has no rows or no columns; nothing was stored.")
    dataset = find_dataset(session, project_id=project_id, name=name)
    if dataset is not None and dataset.versions:
        key, new_table = dataset.versions[-1].storage_key, False
    else:
        key, new_table = lake.new_table_key(project_id, uuid.uuid4().hex), True
    # The table lock is held until the metadata commit so that concurrent ingests of one dataset queue up
    # instead of racing for the same version number.
    with lake.table_lock(runtime.store, key):
        written = lake.write_version(runtime.store, key, frame, label=name, locked=True)
        if written.rows == 0 or not written.schema:
            _discard(runtime, key, new_table)
            raise InvalidInput(f"The data for dataset {name!r} has no rows or no columns; nothing was stored.")
        if lineage.get("rows_out") is None:
            lineage["rows_out"] = written.rows
        if new_table and in_unit_of_work(session):
            # The caller's unit of work commits later; if it rolls back instead, the table must go with it.
            session.info.setdefault(NEW_TABLES_KEY, []).append((runtime.store, key))
        try:
            version, job_id = _record_version(session, runtime=runtime, project_id=project_id, name=name,
                                              description=description, key=key, written=written, lineage=lineage,
                                              user_id=user_id)
        except BaseException:
            _discard(runtime, key, new_table)
            raise
    return version, job_id


def _record_version(session: Session, *, runtime: Runtime, project_id: int, name: str, description: str, key: str,
                    written: lake.WrittenVersion, lineage: dict[str, Any],
                    user_id: int | None) -> tuple[DatasetVersion, int]:
    source = str(lineage["source"])
    with unit_of_work(session):
        dataset = find_dataset(session, project_id=project_id, name=name)
        if dataset is None:
            dataset = Dataset(project_id=project_id, name=name, description=description or "")
            session.add(dataset)
            session.flush()
        elif description:
            dataset.description = description
        latest = session.scalar(select(func.max(DatasetVersion.version))
                                .where(DatasetVersion.dataset_id == dataset.id)) or 0
        version = DatasetVersion(
            dataset_id=dataset.id, version=latest + 1,
            source_filename=(source.removeprefix("upload:") if source.startswith("upload:") else source)[:300],
            source_format=_source_format(lineage), storage_key=key, delta_version=written.delta_version,
            row_count=written.rows, column_count=len(written.schema), schema=written.schema, lineage=lineage,
            sha256=lineage.get("sha256"), size_bytes=lineage.get("bytes"), stored_bytes=written.size_bytes,
            created_by_id=user_id,
        )
        session.add(version)
        session.flush()
        job = jobs.create_job(session, runtime=runtime, kind=PROFILE_JOB, params={"version_id": version.id},
                              user_id=user_id, project_id=project_id, message="profile queued")
    return version, job.id


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput.translatable(N_("A dataset needs a name (form field 'name')."))
    if len(name) > 200:
        raise InvalidInput.translatable(N_("The dataset name is longer than 200 characters."))
    return name


@event.listens_for(Session, "after_commit")
def _keep_new_tables(session: Session) -> None:
    session.info.pop(NEW_TABLES_KEY, None)


@event.listens_for(Session, "after_rollback")
def _drop_unrecorded_new_tables(session: Session) -> None:
    # Called inside a caller's larger unit of work that then failed: the new dataset's row is gone, so its table
    # (unreachable by anyone) goes too.
    for store, key in session.info.pop(NEW_TABLES_KEY, []):
        lake.delete_table(store, key)


def _discard(runtime: Runtime, key: str, new_table: bool) -> None:
    # An existing table keeps the unreferenced Delta version: Delta cannot un-commit, and no row points to it.
    if new_table:
        lake.delete_table(runtime.store, key)


SECRET_HINTS = ("password", "passwd", "secret", "token", "credential", "api_key", "apikey", "private_key")


def _strip_secrets(value: Any) -> Any:
    """Drop secret-looking keys and passwords inside URLs, however the caller built the settings."""
    if isinstance(value, dict):
        return {k: _strip_secrets(v) for k, v in value.items()
                if not any(h in str(k).lower() for h in SECRET_HINTS)}
    if isinstance(value, list):
        return [_strip_secrets(v) for v in value]
    if isinstance(value, str):
        return URL_PASSWORD.sub(r"\1:***@", value)
    return value


def _clean_lineage(session: Session, *, project_id: int, lineage: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(lineage, dict) or not str(lineage.get("source") or "").strip():
        raise InvalidInput("Lineage needs a 'source' (e.g. 'upload:<file>', 'connection:<name>').")
    parents = lineage.get("parents") or []
    if not isinstance(parents, list) or not all(isinstance(p, int) for p in parents):
        raise InvalidInput(f"Lineage 'parents' must be a list of dataset version ids; got {parents!r}.")
    for parent_id in parents:
        parent = get_dataset_version(session, version_id=parent_id)
        if parent.dataset.project_id != project_id:
            raise InvalidInput(f"Parent dataset version {parent_id} belongs to another project.")
    recipe = lineage.get("recipe")
    if recipe is not None and not isinstance(recipe, dict):
        raise InvalidInput(f"Lineage 'recipe' must be {{'id', 'name', 'version'}} or None; got {recipe!r}.")
    cleaned = {
        "source": str(lineage["source"]).strip()[:500], "connector": lineage.get("connector"),
        "connector_settings": lineage.get("connector_settings") or {}, "recipe": recipe, "parents": parents,
        "rows_in": lineage.get("rows_in"), "rows_out": lineage.get("rows_out"),
        "quarantined_rows": int(lineage.get("quarantined_rows") or 0), "watermark": lineage.get("watermark"),
    }
    extra = {k: v for k, v in lineage.items() if k not in cleaned}
    tree: dict[str, Any] = _json_tree(_strip_secrets({**cleaned, **extra}))
    return tree


def _json_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_tree(v) for v in value]
    return profiling.json_safe(value)


def _source_format(lineage: dict[str, Any]) -> str:
    if lineage.get("format"):
        return str(lineage["format"])[:20]
    if lineage.get("recipe"):
        return "recipe"
    return str(lineage.get("connector") or "frame")[:20]


def read_dataset_version_frame(session: Session, *, store: ArtifactStore, version_id: int,
                               columns: list[str] | None = None) -> pl.DataFrame:
    """Return the data of a dataset version (optionally only some columns)."""
    version = get_dataset_version(session, version_id=version_id)
    if columns is not None:
        known = {c["name"] for c in version.schema}
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise InvalidInput(f"Dataset version {version_id} has no column(s) {', '.join(map(repr, unknown))}.")
    scan = lake.scan_version(store, version.storage_key, version.delta_version)
    return (scan.select(columns) if columns is not None else scan).collect()


def scan_dataset_version(session: Session, *, store: ArtifactStore, version_id: int) -> pl.LazyFrame:
    """Return a lazy scan of a dataset version, for data larger than memory."""
    version = get_dataset_version(session, version_id=version_id)
    return lake.scan_version(store, version.storage_key, version.delta_version)


def preview_dataset_version(session: Session, *, store: ArtifactStore, version_id: int,
                            limit: int = 20) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the column names and the first `limit` rows (JSON-safe values) of a version."""
    if not 1 <= limit <= MAX_PREVIEW_ROWS:
        raise InvalidInput(f"limit must be between 1 and {MAX_PREVIEW_ROWS}; got {limit}.")
    head = scan_dataset_version(session, store=store, version_id=version_id).head(limit).collect()
    rows = [{k: profiling.json_safe(v) for k, v in row.items()} for row in head.iter_rows(named=True)]
    return head.columns, rows


def find_previous_version(session: Session, *, version_id: int) -> DatasetVersion | None:
    """Return the version of the same dataset just before `version_id`, if any."""
    version = get_dataset_version(session, version_id=version_id)
    return session.scalar(select(DatasetVersion)
                          .where(DatasetVersion.dataset_id == version.dataset_id,
                                 DatasetVersion.version < version.version)
                          .order_by(DatasetVersion.version.desc()).limit(1))


def get_dataset_version_lineage(session: Session, *, version_id: int) -> LineageRead:
    """Return where a version came from (source, connector, recipe, parents, rows, user, time) and its children."""
    version = get_dataset_version(session, version_id=version_id)
    lineage = version.lineage or {}

    def ref(v: DatasetVersion) -> LineageParent:
        return LineageParent(id=v.id, dataset_id=v.dataset_id, dataset_name=v.dataset.name, version=v.version)

    parents = []
    for parent_id in lineage.get("parents") or []:
        parent = session.get(DatasetVersion, parent_id, options=[selectinload(DatasetVersion.dataset)])
        if parent is not None:
            parents.append(ref(parent))
    children = [ref(v) for v in reversed(list_project_versions(session, project_id=version.dataset.project_id))
                if version.id in ((v.lineage or {}).get("parents") or [])]
    user = None
    if version.created_by_id is not None:
        user = accounts_service.get_user(session, user_id=version.created_by_id).username
    return LineageRead(
        version_id=version.id, dataset_id=version.dataset_id, dataset_name=version.dataset.name,
        version=version.version, delta_version=version.delta_version,
        source=lineage.get("source") or version.source_filename, connector=lineage.get("connector"),
        connector_settings=lineage.get("connector_settings") or {}, recipe=lineage.get("recipe"),
        parents=parents, children=children, rows_in=lineage.get("rows_in"),
        rows_out=lineage.get("rows_out", version.row_count),
        quarantined_rows=int(lineage.get("quarantined_rows") or 0),
        watermark=None if lineage.get("watermark") is None else str(lineage["watermark"]),
        encoding=lineage.get("encoding"), delimiter=lineage.get("delimiter"),
        row_count=version.row_count, column_count=version.column_count,
        created_by_id=version.created_by_id, created_by=user, created_at=version.created_at,
    )


def diff_dataset_versions(session: Session, *, store: ArtifactStore, version_a_id: int,
                          version_b_id: int) -> dict[str, Any]:
    """Compare version b with version a: schema changes, row counts and per-column statistic shifts."""
    scans = [scan_dataset_version(session, store=store, version_id=v) for v in (version_a_id, version_b_id)]
    result = diff.diff_frames(*scans)
    for shift in result["columns"]:
        for key in ("top_values_a", "top_values_b"):
            if shift[key] is not None:
                shift[key] = [{**t, "value": profiling.json_safe(t["value"])} for t in shift[key]]
    return {"a": version_a_id, "b": version_b_id, **result}


def find_dataset_profile(session: Session, *, version_id: int) -> DatasetProfile | None:
    """Return the profile of a version if it has been computed."""
    return session.scalar(select(DatasetProfile).where(DatasetProfile.version_id == version_id))


def get_dataset_profile(session: Session, *, version_id: int) -> DatasetProfile:
    """Return the profile of a version, or NotFound while it is still being computed."""
    get_dataset_version(session, version_id=version_id)
    profile = find_dataset_profile(session, version_id=version_id)
    if profile is None:
        raise NotFound(f"The profile of dataset version {version_id} is not computed yet; "
                       "its profile job is still queued or running (or failed — see the project's jobs).")
    return profile


def compute_dataset_profile(session: Session, *, store: ArtifactStore, version_id: int,
                            job_id: int | None = None,
                            progress: Callable[[float, str], None] | None = None) -> DatasetProfile:
    """Profile a version's data and store the result (once; later calls return the stored profile).

    The version is scanned lazily, so a version larger than memory is profiled in streaming mode.
    """
    existing = find_dataset_profile(session, version_id=version_id)
    if existing is not None:
        return existing
    frame = scan_dataset_version(session, store=store, version_id=version_id)
    result = profiling.profile_frame(frame, progress=progress)
    with unit_of_work(session):
        profile = DatasetProfile(version_id=version_id, profile=result, job_id=job_id)
        session.add(profile)
    return profile


@job_handler(PROFILE_JOB)
def _run_profile_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.1, "reading data", force=True)
    with session_scope(ctx.runtime.sessions) as session:
        profile = compute_dataset_profile(session, store=ctx.runtime.store, version_id=int(params["version_id"]),
                                          job_id=ctx.job_id, progress=ctx.progress)
        return {"version_id": profile.version_id, "rows": profile.profile.get("rows")}


@dataclass(frozen=True)
class ColumnSummary:
    """A profiled column as other domains show it (reports): type, missing share, spread."""

    name: str
    dtype: str | None
    missing_pct: float | None
    distinct: int | None
    min: object
    max: object
    mean: float | None


@dataclass(frozen=True)
class DatasetSummary:
    """The latest version of a dataset; `profile_columns` is None until the version is profiled."""

    name: str
    version: int
    rows: int | None
    columns: int | None
    created_at: dt.datetime
    profile_columns: tuple[ColumnSummary, ...] | None


def project_summary(session: Session, *, project_id: int) -> list[DatasetSummary]:
    """Summarise the latest version of each dataset of the project (for reports)."""
    datasets = []
    for version in list_latest_versions(session, project_id=project_id):
        profile = find_dataset_profile(session, version_id=version.id)
        columns = None if profile is None else tuple(
            ColumnSummary(name=str(c.get("name")), dtype=c.get("dtype"), missing_pct=c.get("missing_pct"),
                          distinct=c.get("distinct"), min=c.get("min"), max=c.get("max"), mean=c.get("mean"))
            for c in profile.profile.get("column_profiles", []))
        datasets.append(DatasetSummary(name=version.dataset.name, version=version.version, rows=version.row_count,
                                       columns=version.column_count, created_at=version.created_at,
                                       profile_columns=columns))
    return datasets
