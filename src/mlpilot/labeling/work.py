"""The annotator's loop: serve the next item, submit or skip it, go back to earlier answers.

Serving is a claim on the task row: on PostgreSQL the candidate is read `FOR UPDATE SKIP LOCKED`, so annotators
asking at once take different rows without waiting; everywhere the claim is a conditional UPDATE
(`slots_left > 0`), so no item is served beyond its overlap, and the unique (task, user) pair means nobody is
served the same item twice. SQLite runs one writer at a time, which makes the conditional UPDATE enough there.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import rows_changed, unit_of_work, utcnow
from mlpilot.core.errors import Conflict, NotFound
from mlpilot.labeling.models import (
    AssignmentStatus,
    LabelingAssignment,
    LabelingProject,
    LabelingTask,
    MemberRole,
    SchemeKind,
)
from mlpilot.labeling.schemas import ItemRead, LabelIn, SubmitIn
from mlpilot.labeling.scheme import ItemContext, Scheme, StoredLabel, check_label
from mlpilot.labeling.service import require_role

CLAIM_ATTEMPTS = 5
MAX_SECONDS = 86_400.0


def _item(session: Session, assignment: LabelingAssignment) -> ItemRead:
    task = assignment.task
    answered = session.scalar(select(func.count()).where(
        LabelingAssignment.labeling_id == assignment.labeling_id, LabelingAssignment.user_id == assignment.user_id,
        LabelingAssignment.status != AssignmentStatus.open)) or 0
    return ItemRead(assignment_id=assignment.id, task_id=task.id, row_index=task.row_index, text=task.text,
                    fields={k: v for k, v in task.fields.items() if not k.startswith("_")},
                    status=assignment.status, label=assignment.label, position=int(answered))


def next_item(session: Session, *, labeling_id: int, user: User) -> ItemRead | None:
    """The annotator's open item, else a newly claimed one; None when nothing is left for them."""
    with unit_of_work(session):
        require_role(session, labeling_id=labeling_id, user=user, role=MemberRole.annotator)
        current = session.scalar(select(LabelingAssignment).where(
            LabelingAssignment.labeling_id == labeling_id, LabelingAssignment.user_id == user.id,
            LabelingAssignment.status == AssignmentStatus.open).order_by(LabelingAssignment.id).limit(1))
        if current is not None:
            return _item(session, current)
        seen = exists().where(LabelingAssignment.task_id == LabelingTask.id, LabelingAssignment.user_id == user.id)
        candidate = (select(LabelingTask.id).where(LabelingTask.labeling_id == labeling_id,
                                                   LabelingTask.slots_left > 0, ~seen)
                     .order_by(LabelingTask.id).limit(1).with_for_update(skip_locked=True))
        for _ in range(CLAIM_ATTEMPTS):
            task_id = session.scalar(candidate)
            if task_id is None:
                return None
            claimed = rows_changed(session, update(LabelingTask).where(
                LabelingTask.id == task_id, LabelingTask.slots_left > 0)
                .values(slots_left=LabelingTask.slots_left - 1).execution_options(synchronize_session=False))
            if claimed == 1:
                assignment = LabelingAssignment(labeling_id=labeling_id, task_id=task_id, user_id=user.id)
                session.add(assignment)
                session.flush()
                return _item(session, assignment)
    raise Conflict("Many annotators are asking at once; ask for the next item again.")


def _own(session: Session, *, assignment_id: int, user: User) -> tuple[LabelingProject, LabelingAssignment]:
    """The caller's own assignment and its project, while they are still its annotator."""
    assignment = session.get(LabelingAssignment, assignment_id)
    if assignment is None or assignment.user_id != user.id:
        raise NotFound(f"Labeling assignment {assignment_id} is not one of your items.")
    labeling = require_role(session, labeling_id=assignment.labeling_id, user=user, role=MemberRole.annotator)
    return labeling, assignment


def item_context(labeling: LabelingProject, task: LabelingTask) -> ItemContext:
    size = task.fields.get("_image_size") if labeling.kind == SchemeKind.boxes else None
    if isinstance(size, list) and len(size) == 2 and all(isinstance(v, (int, float)) for v in size):
        return ItemContext(task.text, float(size[0]), float(size[1]))
    return ItemContext(task.text)


def checked_label(labeling: LabelingProject, task: LabelingTask, value: LabelIn) -> StoredLabel:
    return check_label(Scheme(SchemeKind(labeling.kind), labeling.labels), value, item_context(labeling, task))


def _elapsed(since: dt.datetime) -> float:
    start = since if since.tzinfo is not None else since.replace(tzinfo=dt.UTC)
    return min(max((utcnow() - start).total_seconds(), 0.0), MAX_SECONDS)


def submit(session: Session, *, assignment_id: int, user: User, body: SubmitIn) -> ItemRead:
    """Record (or, before review, change) the annotator's label of an item they were served."""
    with unit_of_work(session):
        labeling, assignment = _own(session, assignment_id=assignment_id, user=user)
        if assignment.status == AssignmentStatus.skipped:
            raise Conflict("You skipped this item; it went back to the pool.")
        stored = checked_label(labeling, assignment.task, body.value)
        was = assignment.status
        seconds = body.seconds_spent if body.seconds_spent is not None else _elapsed(assignment.served_at)
        if was == AssignmentStatus.submitted and assignment.seconds_spent is not None:
            seconds += assignment.seconds_spent  # changing an answer adds to the time spent on it
        changed = rows_changed(session, update(LabelingAssignment).where(
            LabelingAssignment.id == assignment.id, LabelingAssignment.status == was,
            LabelingAssignment.review.is_(None))
            .values(status=AssignmentStatus.submitted, label=stored, submitted_at=utcnow(),
                    seconds_spent=min(seconds, MAX_SECONDS)).execution_options(synchronize_session=False))
        if changed != 1:
            raise Conflict("This item was reviewed or answered meanwhile; its label can no longer change.")
        if was == AssignmentStatus.open:
            session.execute(update(LabelingTask).where(LabelingTask.id == assignment.task_id)
                            .values(done_count=LabelingTask.done_count + 1)
                            .execution_options(synchronize_session=False))
    session.refresh(assignment)
    return _item(session, assignment)


def skip(session: Session, *, assignment_id: int, user: User) -> ItemRead:
    """Give an open item back: someone else may be served it, never this annotator again."""
    with unit_of_work(session):
        _, assignment = _own(session, assignment_id=assignment_id, user=user)
        changed = rows_changed(session, update(LabelingAssignment).where(
            LabelingAssignment.id == assignment.id, LabelingAssignment.status == AssignmentStatus.open)
            .values(status=AssignmentStatus.skipped, submitted_at=utcnow(),
                    seconds_spent=_elapsed(assignment.served_at)).execution_options(synchronize_session=False))
        if changed != 1:
            raise Conflict("Only an item you have not answered can be skipped.")
        session.execute(update(LabelingTask).where(LabelingTask.id == assignment.task_id)
                        .values(slots_left=LabelingTask.slots_left + 1).execution_options(synchronize_session=False))
    session.refresh(assignment)
    return _item(session, assignment)


def my_items(session: Session, *, labeling_id: int, user: User, limit: int = 50,
             before: int | None = None) -> list[ItemRead]:
    """The annotator's answered and skipped items, newest first (for previous / undo)."""
    require_role(session, labeling_id=labeling_id, user=user, role=MemberRole.annotator)
    stmt = (select(LabelingAssignment).where(LabelingAssignment.labeling_id == labeling_id,
                                             LabelingAssignment.user_id == user.id,
                                             LabelingAssignment.status != AssignmentStatus.open)
            .order_by(LabelingAssignment.id.desc()).limit(limit))
    if before is not None:
        stmt = stmt.where(LabelingAssignment.id < before)
    return [_item(session, a) for a in session.scalars(stmt)]


def get_item(session: Session, *, assignment_id: int, user: User) -> ItemRead:
    return _item(session, _own(session, assignment_id=assignment_id, user=user)[1])
