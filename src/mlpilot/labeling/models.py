"""Tables of the labeling domain: labeling projects, their members, tasks and the labels given to them."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mlpilot.core.db import Base, utcnow


class SchemeKind(enum.StrEnum):
    classification = "classification"  # one label per item
    multilabel = "multilabel"  # any non-empty subset of the labels
    spans = "spans"  # entity spans over the text, each with a type
    boxes = "boxes"  # image bounding boxes, each with a label


class MemberRole(enum.StrEnum):
    annotator = "annotator"
    reviewer = "reviewer"


class AssignmentStatus(enum.StrEnum):
    open = "open"  # served, not yet answered
    submitted = "submitted"
    skipped = "skipped"


class ReviewDecision(enum.StrEnum):
    accepted = "accepted"
    fixed = "fixed"  # accepted with the reviewer's corrected label
    rejected = "rejected"


class LabelingProject(Base):
    """A labeling project over one dataset version: its label scheme, guidelines and overlap."""

    __tablename__ = "labeling_projects"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"),
                                                    index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    labels: Mapped[list[str]] = mapped_column(JSON)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    # The column shown as the item's text, the other columns shown beside it, and for boxes the image size columns.
    text_column: Mapped[str] = mapped_column(String(200))
    fields: Mapped[list[str]] = mapped_column(JSON)
    image_width_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    image_height_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # This share of the items (chosen by a seeded draw) goes to `overlap_count` different annotators; the rest to one.
    overlap_share: Mapped[float] = mapped_column(Float, default=0.0)
    overlap_count: Mapped[int] = mapped_column(Integer, default=1)
    batch_size: Mapped[int] = mapped_column(Integer, default=1000)
    task_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    members: Mapped[list[LabelingMember]] = relationship(cascade="all, delete-orphan", order_by="LabelingMember.id")


class LabelingMember(Base):
    """A user's role in a labeling project (annotators label, reviewers review); project writers manage."""

    __tablename__ = "labeling_members"
    __table_args__ = (UniqueConstraint("labeling_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    labeling_id: Mapped[int] = mapped_column(ForeignKey("labeling_projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # How many of their items this member has answered or skipped (the item's `position`), kept by submit and
    # skip so serving an item never counts the member's whole history.
    answered: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class LabelingTask(Base):
    """One item to label: a row of the dataset version, with what the labeling page shows."""

    __tablename__ = "labeling_tasks"
    __table_args__ = (
        UniqueConstraint("labeling_id", "row_index"),
        # The next-item query scans only items with free places, in order: a partial index keeps it short.
        Index("ix_labeling_tasks_open", "labeling_id", "id", postgresql_where=text("slots_left > 0"),
              sqlite_where=text("slots_left > 0")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    labeling_id: Mapped[int] = mapped_column(ForeignKey("labeling_projects.id", ondelete="CASCADE"))
    row_index: Mapped[int] = mapped_column(BigInteger)
    batch: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    # How many annotators should label it, how many more may still be served it, and how many answered.
    target_count: Mapped[int] = mapped_column(Integer)
    slots_left: Mapped[int] = mapped_column(Integer)
    done_count: Mapped[int] = mapped_column(Integer, default=0)


class LabelingAssignment(Base):
    """An item served to one annotator, their answer and its review; (task, user) is unique: never served twice."""

    __tablename__ = "labeling_assignments"
    __table_args__ = (UniqueConstraint("task_id", "user_id"),
                      Index("ix_labeling_assignments_user", "labeling_id", "user_id", "status"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    labeling_id: Mapped[int] = mapped_column(ForeignKey("labeling_projects.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("labeling_tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=AssignmentStatus.open)
    label: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    served_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    seconds_spent: Mapped[float | None] = mapped_column(Float, nullable=True)
    review: Mapped[str | None] = mapped_column(String(20), nullable=True)
    review_reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_label: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)

    task: Mapped[LabelingTask] = relationship()
