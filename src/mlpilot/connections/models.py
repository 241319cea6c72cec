"""Tables of data connections: a project's configured sources and the watermark each ingest left behind."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class Connection(Base):
    """A named source of a project (files, a database…); its secrets are stored only Fernet-encrypted."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    settings: Mapped[dict[str, Any]] = mapped_column()
    # Fernet token of the JSON secrets object; never sent to clients.
    secrets_encrypted: Mapped[str] = mapped_column(Text, default="")
    # Names of the stored secrets (not their values), so reads can show them masked without decrypting.
    secret_names: Mapped[list[Any]] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConnectionWatermark(Base):
    """The newest watermark ingested from a connection into a dataset, so the next run reads only newer rows."""

    __tablename__ = "connection_watermarks"
    __table_args__ = (UniqueConstraint("connection_id", "dataset_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    dataset_name: Mapped[str] = mapped_column(String(200))
    watermark: Mapped[str] = mapped_column(String(200))
    dataset_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
