"""Tables of the blueprints domain: blueprints published or imported here (built-ins ship as files), and which
project each instantiation created."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class Blueprint(Base):
    """A blueprint document stored here; `origin` is "published" (from a project) or "imported" (a file)."""

    __tablename__ = "blueprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    title_en: Mapped[str] = mapped_column(String(300))
    title_ko: Mapped[str] = mapped_column(String(300))
    industry: Mapped[str] = mapped_column(String(60), default="")
    task: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(20))
    document: Mapped[str] = mapped_column(Text)
    source_project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"),
                                                          nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BlueprintInstance(Base):
    """A project created from a blueprint (written in the same transaction as the project's parts)."""

    __tablename__ = "blueprint_instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    blueprint: Mapped[str] = mapped_column(String(63), index=True)
    version: Mapped[int] = mapped_column(Integer)
    services: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
