"""Tables of the reports domain: rendered project documents (append-only versions; the files live in the store)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="status")
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    html_key: Mapped[str] = mapped_column(String(500))
    pdf_key: Mapped[str] = mapped_column(String(500))
    html_sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    html_bytes: Mapped[int] = mapped_column(Integer, default=0)
    pdf_bytes: Mapped[int] = mapped_column(Integer, default=0)
    # The same document as Word and Hangul files (every version carries all formats).
    version: Mapped[int] = mapped_column(Integer, default=1)
    docx_key: Mapped[str] = mapped_column(String(500), default="")
    hwpx_key: Mapped[str] = mapped_column(String(500), default="")
    docx_bytes: Mapped[int] = mapped_column(Integer, default=0)
    hwpx_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
