"""Quality: the review step (accept, fix, reject with a reason), agreement per project and the disagreements."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import rows_changed, unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.labeling.agreement import agreement, box_f1, span_f1
from mlpilot.labeling.models import (
    AssignmentStatus,
    LabelingAssignment,
    LabelingProject,
    LabelingTask,
    MemberRole,
    ReviewDecision,
    SchemeKind,
)
from mlpilot.labeling.schemas import (
    AgreementRead,
    AnnotatorAgreementRead,
    DisagreementRead,
    PairKappaRead,
    ReviewIn,
    ReviewItemRead,
    VoteRead,
)
from mlpilot.labeling.service import get_labeling, require_role
from mlpilot.labeling.work import checked_label

MAX_AGREEMENT_LABELS = 5_000_000


def _review_item(assignment: LabelingAssignment, annotator: str) -> ReviewItemRead:
    return ReviewItemRead(assignment_id=assignment.id, task_id=assignment.task_id,
                          row_index=assignment.task.row_index, text=assignment.task.text, annotator=annotator,
                          label=assignment.label, review=assignment.review, review_reason=assignment.review_reason,
                          reviewed_label=assignment.reviewed_label)


def review_queue(session: Session, *, labeling_id: int, user: User, reviewed: bool = False,
                 limit: int = 50) -> list[ReviewItemRead]:
    """Submitted labels waiting for review (or, with reviewed=True, the latest reviewed ones)."""
    require_role(session, labeling_id=labeling_id, user=user, role=MemberRole.reviewer)
    stmt = (select(LabelingAssignment, User.username).join(User, User.id == LabelingAssignment.user_id)
            .where(LabelingAssignment.labeling_id == labeling_id,
                   LabelingAssignment.status == AssignmentStatus.submitted,
                   LabelingAssignment.review.is_not(None) if reviewed else LabelingAssignment.review.is_(None))
            .order_by(LabelingAssignment.id.desc() if reviewed else LabelingAssignment.id).limit(limit))
    return [_review_item(a, name) for a, name in session.execute(stmt).tuples()]


def labeling_of(session: Session, *, assignment_id: int) -> int:
    labeling_id = session.scalar(select(LabelingAssignment.labeling_id).where(LabelingAssignment.id == assignment_id))
    if labeling_id is None:
        raise NotFound(f"Labeling assignment {assignment_id} does not exist.")
    return int(labeling_id)


def review(session: Session, *, assignment_id: int, user: User, body: ReviewIn) -> ReviewItemRead:
    """Record a reviewer's decision once; a rejected label frees a place so another annotator labels the item."""
    with unit_of_work(session):
        assignment = session.get(LabelingAssignment, assignment_id)
        if assignment is None:
            raise NotFound(f"Labeling assignment {assignment_id} does not exist.")
        labeling = require_role(session, labeling_id=assignment.labeling_id, user=user, role=MemberRole.reviewer)
        if assignment.status != AssignmentStatus.submitted:
            raise Conflict("Only submitted labels can be reviewed.")
        fixed = None
        if body.decision == ReviewDecision.fixed:
            if body.value is None:
                raise InvalidInput("value: a fix needs the corrected label.")
            fixed = checked_label(labeling, assignment.task, body.value)
        if body.decision == ReviewDecision.rejected and not body.reason.strip():
            raise InvalidInput("reason: say why the label is rejected.")
        changed = rows_changed(session, update(LabelingAssignment).where(
            LabelingAssignment.id == assignment.id, LabelingAssignment.review.is_(None))
            .values(review=body.decision, review_reason=body.reason.strip(), reviewed_label=fixed,
                    reviewer_id=user.id, reviewed_at=utcnow()).execution_options(synchronize_session=False))
        if changed != 1:
            raise Conflict("This label has already been reviewed.")
        if body.decision == ReviewDecision.rejected:
            session.execute(update(LabelingTask).where(LabelingTask.id == assignment.task_id)
                            .values(slots_left=LabelingTask.slots_left + 1,
                                    done_count=LabelingTask.done_count - 1)
                            .execution_options(synchronize_session=False))
        annotator = session.get(User, assignment.user_id)
    session.refresh(assignment)
    return _review_item(assignment, annotator.username if annotator else "")


# --- agreement --------------------------------------------------------------------------------------------------


def label_key(kind: str, label: dict[str, object] | None) -> str:
    """A comparable text of a label: the class, the sorted label set, or the spans/boxes as JSON."""
    if label is None:
        return ""
    if kind == SchemeKind.classification:
        return str(label.get("label"))
    if kind == SchemeKind.multilabel:
        value = label.get("labels")
        return "|".join(str(x) for x in value) if isinstance(value, list) else ""
    return json.dumps(label, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Vote:
    task_id: int
    annotator: str
    label: dict[str, object]


def _votes(session: Session, labeling_id: int) -> list[Vote]:
    """Every submitted, not rejected label of the project (the annotators' own answers)."""
    stmt = (select(LabelingAssignment.task_id, User.username, LabelingAssignment.label)
            .join(User, User.id == LabelingAssignment.user_id)
            .where(LabelingAssignment.labeling_id == labeling_id,
                   LabelingAssignment.status == AssignmentStatus.submitted,
                   (LabelingAssignment.review.is_(None)) | (LabelingAssignment.review != ReviewDecision.rejected))
            .order_by(LabelingAssignment.task_id).limit(MAX_AGREEMENT_LABELS + 1))
    votes = [Vote(int(t), name, label or {}) for t, name, label in session.execute(stmt).tuples()]
    if len(votes) > MAX_AGREEMENT_LABELS:
        raise InvalidInput(f"More than {MAX_AGREEMENT_LABELS:,} labels: export them and use 'mlpilot label "
                           "agreement' on the file.")
    return votes


def _mean_pairwise(labeling: LabelingProject, votes: list[Vote]) -> float | None:
    """Mean exact-match F1 over the pairs of annotators of each multiply-labeled item (spans or boxes)."""
    by_task: dict[int, list[Vote]] = defaultdict(list)
    for vote in votes:
        by_task[vote.task_id].append(vote)
    scores = []
    for task_votes in by_task.values():
        for a, b in itertools.combinations(task_votes, 2):
            if labeling.kind == SchemeKind.spans:
                scores.append(span_f1(_spans(a.label), _spans(b.label)).f1)
            else:
                scores.append(box_f1(_boxes(a.label), _boxes(b.label)).f1)
    return sum(scores) / len(scores) if scores else None


def _spans(label: dict[str, object]) -> list[tuple[int, int, str]]:
    spans = label.get("spans")
    return [(int(s["start"]), int(s["end"]), str(s["type"])) for s in spans if isinstance(s, dict)] \
        if isinstance(spans, list) else []


def _boxes(label: dict[str, object]) -> list[tuple[tuple[float, float, float, float], str]]:
    boxes = label.get("boxes")
    if not isinstance(boxes, list):
        return []
    return [((float(b["x"]), float(b["y"]), float(b["x"]) + float(b["width"]), float(b["y"]) + float(b["height"])),
             str(b["label"])) for b in boxes if isinstance(b, dict)]


def project_agreement(session: Session, *, labeling_id: int) -> AgreementRead:
    """Agreement of the project's labels: kappas and alpha on the labels (the label set for multi-label, the whole
    answer for spans and boxes), plus mean pairwise exact-match F1 for spans and boxes."""
    labeling = get_labeling(session, labeling_id=labeling_id)
    votes = _votes(session, labeling_id)
    pairwise = _mean_pairwise(labeling, votes) if labeling.kind in (SchemeKind.spans, SchemeKind.boxes) else None
    annotators = {v.annotator for v in votes}
    if len(annotators) < 2:
        return AgreementRead(kind=labeling.kind, n_labels=len(votes), n_items=len({v.task_id for v in votes}),
                             n_annotators=len(annotators), pairwise_f1=pairwise,
                             notes=["Agreement needs labels from at least 2 annotators."])
    frame = pl.DataFrame({"item": [v.task_id for v in votes], "annotator": [v.annotator for v in votes],
                          "label": [label_key(labeling.kind, v.label) for v in votes]})
    report = agreement(frame, item="item", annotator="annotator", label="label")
    return AgreementRead(kind=labeling.kind, n_labels=len(votes), n_items=report.n_items,
                         n_annotators=report.n_annotators, fleiss_kappa=report.fleiss_kappa,
                         krippendorff_alpha=report.krippendorff_alpha,
                         cohen_kappa=[PairKappaRead(**vars(p)) for p in report.cohen_kappa],
                         per_annotator=[AnnotatorAgreementRead(**vars(p)) for p in report.per_annotator],
                         pairwise_f1=pairwise,
                         notes=report.notes)


def disagreements(session: Session, *, labeling_id: int, limit: int = 100) -> list[DisagreementRead]:
    """Items whose annotators gave different labels, for adjudication."""
    labeling = get_labeling(session, labeling_id=labeling_id)
    by_task: dict[int, list[Vote]] = defaultdict(list)
    for vote in _votes(session, labeling_id):
        by_task[vote.task_id].append(vote)
    split = [task for task, votes in by_task.items()
             if len({label_key(labeling.kind, v.label) for v in votes}) > 1][:limit]
    tasks = {t.id: t for t in session.scalars(select(LabelingTask).where(LabelingTask.id.in_(split)))}
    return [DisagreementRead(task_id=task, row_index=tasks[task].row_index, text=tasks[task].text,
                             votes=[VoteRead(annotator=v.annotator, label=v.label) for v in by_task[task]])
            for task in split]
