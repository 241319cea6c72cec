"""Tables of the usecases domain: the append-only feasibility screenings of a project."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class Screening(Base):
    """One answered six-question screen of a candidate use case, with the data readiness measured for it.

    The newest row of a project is its current screening; the newest row per candidate is its point on the
    project's priority matrix.
    """

    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    usecase_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(10))
    value_score: Mapped[int] = mapped_column(Integer, default=0)
    feasibility_score: Mapped[int] = mapped_column(Integer, default=0)
    dataset_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL"), nullable=True)
    # The Readiness figures and checks (usecases.readiness), or None when no dataset was checked.
    readiness: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
