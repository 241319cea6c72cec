"""Use cases of the datasets domain: ingest an upload as a new immutable version, profile it, read it back."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mlpilot.core import jobs
from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.jobs import JobContext, job_handler
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import ingest, profiling
from mlpilot.datasets.models import Dataset, DatasetProfile, DatasetVersion
from mlpilot.projects import service as projects_service

PROFILE_JOB = "datasets.profile"
MAX_PREVIEW_ROWS = 1000


def list_datasets(session: Session, *, project_id: int) -> list[Dataset]:
    """Return the project's datasets with their versions, by name."""
    stmt = (select(Dataset).where(Dataset.project_id == project_id).options(selectinload(Dataset.versions))
            .order_by(Dataset.name))
    return list(session.scalars(stmt))


def get_dataset(session: Session, *, dataset_id: int) -> Dataset:
    """Return dataset `dataset_id` with its versions."""
    dataset = session.get(Dataset, dataset_id, options=[selectinload(Dataset.versions)])
    if dataset is None:
        raise NotFound(f"Dataset {dataset_id} does not exist.")
    return dataset


def find_dataset(session: Session, *, project_id: int, name: str) -> Dataset | None:
    """Return the project's dataset called `name`, if any."""
    return session.scalar(select(Dataset).where(Dataset.project_id == project_id, Dataset.name == name))


def get_dataset_version(session: Session, *, version_id: int) -> DatasetVersion:
    """Return dataset version `version_id` (its dataset is loaded too)."""
    version = session.get(DatasetVersion, version_id, options=[selectinload(DatasetVersion.dataset)])
    if version is None:
        raise NotFound(f"Dataset version {version_id} does not exist.")
    return version


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
    """Parse an upload, store it as Parquet and record it as the next version; return it and the profile job id.

    The data file is published first and the metadata committed last, so a failure leaves neither behind.
    """
    projects_service.get_project(session, project_id=project_id)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A dataset needs a name (form field 'name').")
    if len(name) > 200:
        raise InvalidInput("The dataset name is longer than 200 characters.")
    filename = (filename or "").strip() or "upload"
    parsed = ingest.parse_upload(filename, data)
    frame = parsed.frame
    key = f"datasets/{project_id}/{uuid.uuid4().hex}.parquet"
    with runtime.store.writer(key) as tmp:
        frame.write_parquet(tmp)
    try:
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
                dataset_id=dataset.id, version=latest + 1, source_filename=filename[:300],
                source_format=parsed.source_format, storage_key=key, row_count=frame.height,
                column_count=frame.width, schema=[{"name": n, "dtype": str(t)} for n, t in frame.schema.items()],
                sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), created_by_id=user_id,
            )
            session.add(version)
            session.flush()
            job = jobs.create_job(session, runtime=runtime, kind=PROFILE_JOB, params={"version_id": version.id},
                                  user_id=user_id, project_id=project_id, message="profile queued")
    except BaseException:
        runtime.store.delete(key)
        raise
    return version, job.id


def read_dataset_version_frame(session: Session, *, store: ArtifactStore, version_id: int,
                               columns: list[str] | None = None) -> pl.DataFrame:
    """Return the data of a dataset version (optionally only some columns)."""
    version = get_dataset_version(session, version_id=version_id)
    if columns is not None:
        known = {c["name"] for c in version.schema}
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise InvalidInput(f"Dataset version {version_id} has no column(s) {', '.join(map(repr, unknown))}.")
    return pl.read_parquet(store.local_path(version.storage_key), columns=columns)


def preview_dataset_version(session: Session, *, store: ArtifactStore, version_id: int,
                            limit: int = 20) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the column names and the first `limit` rows (JSON-safe values) of a version."""
    if not 1 <= limit <= MAX_PREVIEW_ROWS:
        raise InvalidInput(f"limit must be between 1 and {MAX_PREVIEW_ROWS}; got {limit}.")
    version = get_dataset_version(session, version_id=version_id)
    head = pl.scan_parquet(store.local_path(version.storage_key)).head(limit).collect()
    rows = [{k: profiling.json_safe(v) for k, v in row.items()} for row in head.iter_rows(named=True)]
    return head.columns, rows


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
                            job_id: int | None = None) -> DatasetProfile:
    """Profile a version's data and store the result (once; later calls return the stored profile)."""
    existing = find_dataset_profile(session, version_id=version_id)
    if existing is not None:
        return existing
    frame = read_dataset_version_frame(session, store=store, version_id=version_id)
    result = profiling.profile_frame(frame)
    with unit_of_work(session):
        profile = DatasetProfile(version_id=version_id, profile=result, job_id=job_id)
        session.add(profile)
    return profile


@job_handler(PROFILE_JOB)
def _run_profile_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.1, "reading data", force=True)
    with session_scope(ctx.runtime.sessions) as session:
        profile = compute_dataset_profile(session, store=ctx.runtime.store, version_id=int(params["version_id"]),
                                          job_id=ctx.job_id)
        return {"version_id": profile.version_id, "rows": profile.profile.get("rows")}


def project_summary(session: Session, *, project_id: int) -> dict[str, Any]:
    """Summarise the latest version of each dataset of the project (for reports)."""
    keys = ("name", "dtype", "missing_pct", "distinct", "min", "max", "mean", "top_values")
    datasets = []
    for version in list_latest_versions(session, project_id=project_id):
        profile = find_dataset_profile(session, version_id=version.id)
        datasets.append({
            "name": version.dataset.name,
            "version": version.version,
            "rows": version.row_count,
            "columns": version.column_count,
            "created_at": version.created_at,
            "profile": None if profile is None else {
                "columns": [{k: c.get(k) for k in keys} for c in profile.profile.get("column_profiles", [])]
            },
        })
    return {"datasets": datasets}
