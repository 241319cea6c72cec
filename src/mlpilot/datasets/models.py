"""Tables of the datasets domain: datasets, their immutable versions and the profiles computed for them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mlpilot.core.db import Base, utcnow


class Dataset(Base):
    """A named dataset of a project; every upload under the same name adds a version."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[DatasetVersion]] = relationship(back_populates="dataset", order_by="DatasetVersion.version")


class DatasetVersion(Base):
    """One immutable version of a dataset: a Delta Lake table version plus its lineage; no update path.

    This row is the source of truth: a Delta version no row points to is never shown or read.
    """

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source_filename: Mapped[str] = mapped_column(String(300))
    source_format: Mapped[str] = mapped_column(String(20))
    # The dataset's Delta table (the same for all its versions) and this version's number in it.
    storage_key: Mapped[str] = mapped_column(String(500))
    delta_version: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(BigInteger)
    column_count: Mapped[int] = mapped_column(Integer)
    schema: Mapped[list[Any]] = mapped_column(JSON)
    lineage: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SHA-256 and size of the uploaded file; None when the data came from a connection or a recipe.
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="versions")


class DatasetProfile(Base):
    """The profile of a version, computed by a job so the version row itself never changes."""

    __tablename__ = "dataset_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"), unique=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


