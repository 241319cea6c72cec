"""Tables of the risks domain: the register, every change to a risk, issues and change requests, and the plan
figures (targets and minimums) that the detectors compare the evidence against."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mlpilot.core.db import Base, utcnow

MANUAL = "manual"


class RiskStatus(enum.StrEnum):
    open = "open"
    mitigating = "mitigating"
    closed = "closed"


class IssueKind(enum.StrEnum):
    issue = "issue"
    change_request = "change_request"


class IssueStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


class Decision(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class Risk(Base):
    """One risk of a project; `source` is "manual" or the name of the detector that raised it."""

    __tablename__ = "risks"
    # A detector's finding is one risk per project, whatever the number of scans (NULL keys: manual risks).
    __table_args__ = (UniqueConstraint("project_id", "evidence_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    title_ko: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    probability: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    mitigation: Mapped[str] = mapped_column(Text, default="")
    mitigation_ko: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=RiskStatus.open, index=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(60), default=MANUAL)
    evidence_url: Mapped[str] = mapped_column(String(500), default="")
    evidence_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # "evidence_cleared" when a detector closed it (it reopens if the evidence returns), "manual" otherwise.
    closed_reason: Mapped[str] = mapped_column(String(30), default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RiskChange(Base):
    """One change to a risk: who (a user, or the detector named in `source`), when, which field, old → new."""

    __tablename__ = "risk_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    source: Mapped[str] = mapped_column(String(60), default=MANUAL)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(String(1000), default="")
    new_value: Mapped[str] = mapped_column(String(1000), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ProjectIssue(Base):
    """An issue (a problem that has happened) or a change request (a scope change awaiting a decision)."""

    __tablename__ = "project_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=IssueKind.issue)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=IssueStatus.open)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    risk_id: Mapped[int | None] = mapped_column(ForeignKey("risks.id", ondelete="SET NULL"), nullable=True)
    decision: Mapped[str] = mapped_column(String(20), default=Decision.pending)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RiskPlan(Base):
    """The figures a project plans for, which the detectors hold the evidence against (all optional)."""

    __tablename__ = "risk_plans"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    dataset_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    target_column: Mapped[str | None] = mapped_column(String(300), nullable=True)
    min_rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_rows_per_class: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_metric: Mapped[str | None] = mapped_column(String(40), nullable=True)
    target_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    stale_runs: Mapped[int] = mapped_column(Integer, default=5)
    delivery_grace_hours: Mapped[int] = mapped_column(Integer, default=6)
    alert_lookback_hours: Mapped[int] = mapped_column(Integer, default=24)
    max_error_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_latency_p95_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_scan_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
