"""API shapes of the labeling domain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel
from mlpilot.labeling.models import MemberRole, ReviewDecision, SchemeKind

MAX_LABELS = 200
MAX_ITEMS_PER_LABEL = 1000  # spans or boxes on one item


class LabelingCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    dataset_version_id: int = Field(ge=1, le=2**63 - 1)
    kind: SchemeKind
    labels: list[str] = Field(min_length=1, max_length=MAX_LABELS,
                              description="The classes, entity types or box labels, in the order of their keys.")
    text_column: str = Field(min_length=1, max_length=200, description="Column shown as the item's text.")
    fields: list[str] = Field(default_factory=list, max_length=50, description="Other columns shown beside it.")
    image_width_column: str | None = Field(None, max_length=200, description="Boxes: column of the image width.")
    image_height_column: str | None = Field(None, max_length=200, description="Boxes: column of the image height.")
    guidelines: str = ""
    overlap_share: float = Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False,
                                 description="Share of items labeled by several annotators.")
    overlap_count: int = Field(1, ge=1, le=10, description="How many annotators label an overlapping item.")
    batch_size: int = Field(1000, ge=1, le=1_000_000)


class LabelingRead(ReadModel):
    id: int
    project_id: int
    dataset_version_id: int
    name: str
    kind: SchemeKind
    labels: list[str]
    guidelines: str
    text_column: str
    fields: list[str]
    image_width_column: str | None
    image_height_column: str | None
    overlap_share: float
    overlap_count: int
    batch_size: int
    task_count: int
    created_at: dt.datetime


class MemberAdd(InputModel):
    username: str = Field(min_length=1, max_length=200)
    role: MemberRole


class MemberRead(BaseModel):
    user_id: int
    username: str
    role: MemberRole


class SpanIn(BaseModel):
    start: int = Field(ge=0, le=10_000_000)
    end: int = Field(ge=0, le=10_000_000)
    type: str = Field(min_length=1, max_length=200)


Coordinate = Annotated[float, Field(ge=-1e7, le=1e7, allow_inf_nan=False)]


class BoxIn(BaseModel):
    """A box in pixels: its top-left corner and its size."""
    x: Coordinate
    y: Coordinate
    width: Coordinate
    height: Coordinate
    label: str = Field(min_length=1, max_length=200)


class LabelIn(InputModel):
    """An answer: `label` for classification, `labels` for multi-label, `spans` or `boxes` for those schemes."""
    label: str | None = Field(None, max_length=200)
    labels: list[str] | None = Field(None, max_length=MAX_LABELS)
    spans: list[SpanIn] | None = Field(None, max_length=MAX_ITEMS_PER_LABEL)
    boxes: list[BoxIn] | None = Field(None, max_length=MAX_ITEMS_PER_LABEL)


class SubmitIn(InputModel):
    value: LabelIn
    seconds_spent: float | None = Field(None, ge=0, le=86_400, allow_inf_nan=False,
                                        description="Active time on the item; default: time since it was served.")


class ItemRead(BaseModel):
    """An item served to an annotator (or shown to a reviewer)."""
    assignment_id: int
    task_id: int
    row_index: int
    text: str
    fields: dict[str, Any]
    status: str
    label: dict[str, Any] | None
    position: int = Field(description="How many items this annotator has answered in the project.")


class ProgressRead(BaseModel):
    task_count: int
    target_labels: int
    submitted: int
    skipped: int
    open: int
    items_done: int
    reviewed: int
    accepted: int
    rejected: int
    pass_rate: float | None = Field(description="Accepted or fixed, over reviewed labels.")
    seconds_per_label: float | None


class ReviewIn(InputModel):
    decision: ReviewDecision
    reason: str = Field("", max_length=2000)
    value: LabelIn | None = Field(None, description="The corrected label, required when the decision is 'fixed'.")


class ReviewItemRead(BaseModel):
    assignment_id: int
    task_id: int
    row_index: int
    text: str
    annotator: str
    label: dict[str, Any] | None
    review: str | None
    review_reason: str
    reviewed_label: dict[str, Any] | None


class PairKappaRead(BaseModel):
    annotator_a: str
    annotator_b: str
    kappa: float | None
    n_items: int


class AnnotatorAgreementRead(BaseModel):
    annotator: str
    agreement_with_consensus: float | None
    n_items: int


class AgreementRead(BaseModel):
    kind: SchemeKind
    n_labels: int
    n_items: int
    n_annotators: int
    fleiss_kappa: float | None = None
    krippendorff_alpha: float | None = None
    cohen_kappa: list[PairKappaRead] = Field(default_factory=list)
    per_annotator: list[AnnotatorAgreementRead] = Field(default_factory=list)
    pairwise_f1: float | None = Field(None, description="Spans and boxes: mean exact-match F1 over annotator pairs.")
    notes: list[str] = Field(default_factory=list)


class VoteRead(BaseModel):
    annotator: str
    label: dict[str, Any]


class DisagreementRead(BaseModel):
    task_id: int
    row_index: int
    text: str
    votes: list[VoteRead]


class ToDatasetIn(InputModel):
    name: str = Field(min_length=1, max_length=200, description="Dataset to write the new version of.")
    label_column: str = Field("label", min_length=1, max_length=200)


class ToDatasetRead(BaseModel):
    dataset_version_id: int
    dataset_id: int
    version: int
    rows: int
    profile_job_id: int
