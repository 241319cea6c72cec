"""Tables of the team domain: a project member's role, level and skills, the roles each plan task needs, and the
admin's salary table (monthly cost per role and level)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow


class MemberProfile(Base):
    """Extends a project membership with the member's AI role, level, capacity and skills per AI step."""

    __tablename__ = "team_member_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("project_members.id", ondelete="CASCADE"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(10))
    capacity_percent: Mapped[int] = mapped_column(Integer, default=100)
    skills: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # step key → 0 none … 3 expert
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TaskNeed(Base):
    """A role a plan task needs: a share of a person (100 = one full-time) at a level, for one AI step."""

    __tablename__ = "team_task_needs"
    __table_args__ = (UniqueConstraint("task_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(10))
    percent: Mapped[int] = mapped_column(Integer)
    step: Mapped[str | None] = mapped_column(String(20), nullable=True)


class SalaryEntry(Base):
    """One cell of the salary table: the monthly cost of a role at a level. No rows: the shipped defaults."""

    __tablename__ = "team_salaries"

    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    level: Mapped[str] = mapped_column(String(10), primary_key=True)
    monthly_cost: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
