"""Labeling projects: creation over a dataset version (tasks in bulk), members and roles, progress."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import polars as pl
import psycopg
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import Role, User
from mlpilot.core.db import get_existing, unit_of_work
from mlpilot.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import service as datasets_service
from mlpilot.labeling.models import (
    AssignmentStatus,
    LabelingAssignment,
    LabelingMember,
    LabelingProject,
    LabelingTask,
    MemberRole,
    ReviewDecision,
    SchemeKind,
)
from mlpilot.labeling.schemas import LabelingCreate, MemberRead, ProgressRead
from mlpilot.projects import service as projects_service

INSERT_CHUNK = 100_000  # tasks per COPY (or bulk INSERT)
MAX_TEXT_CHARS = 200_000  # the text of one item
MAX_TASKS = 5_000_000


def get_labeling(session: Session, *, labeling_id: int) -> LabelingProject:
    return get_existing(session, LabelingProject, labeling_id, "Labeling project")


def assignment_project_id(session: Session, *, assignment_id: int) -> int:
    """The mlpilot project an assignment belongs to (for the access rules)."""
    project_id = session.scalar(select(LabelingProject.project_id).join(
        LabelingAssignment, LabelingAssignment.labeling_id == LabelingProject.id)
        .where(LabelingAssignment.id == assignment_id))
    if project_id is None:
        raise NotFound(f"Labeling assignment {assignment_id} does not exist.")
    return int(project_id)


def list_labelings(session: Session, *, project_id: int) -> list[LabelingProject]:
    return list(session.scalars(select(LabelingProject).where(LabelingProject.project_id == project_id)
                                .order_by(LabelingProject.id.desc())))


def _check_columns(body: LabelingCreate, known: list[str]) -> list[str]:
    """The columns the tasks read, after checking each exists and the scheme is complete."""
    if len(set(body.labels)) != len(body.labels) or any(not label.strip() for label in body.labels):
        raise InvalidInput("labels: each label must be non-empty and given once.")
    if any(len(label) > 200 for label in body.labels):
        raise InvalidInput("labels: a label has more than 200 characters.")
    if body.kind == SchemeKind.boxes and not (body.image_width_column and body.image_height_column):
        raise InvalidInput("image_width_column, image_height_column: a box scheme needs the image size columns.")
    size = [c for c in (body.image_width_column, body.image_height_column) if c]
    wanted = [body.text_column, *body.fields, *size]
    for field, name in [("text_column", body.text_column), *(("fields", f) for f in body.fields),
                        *(("image size column", c) for c in size)]:
        if name not in known:
            raise InvalidInput(f"{field}: the dataset version has no column {name!r} (columns: {', '.join(known)}).")
    return list(dict.fromkeys(wanted))


def create_labeling(session: Session, *, store: ArtifactStore, project_id: int, user: User,
                    body: LabelingCreate) -> LabelingProject:
    """Create a labeling project and one task per row of the dataset version, inserted in chunks."""
    version = datasets_service.get_dataset_version(session, version_id=body.dataset_version_id)
    if version.dataset.project_id != project_id:
        raise InvalidInput(f"dataset_version_id: version {version.id} belongs to another project.")
    if version.row_count > MAX_TASKS:
        raise InvalidInput(f"dataset_version_id: {version.row_count:,} rows; a labeling project takes at most "
                           f"{MAX_TASKS:,} (split the data with a recipe).")
    columns = _check_columns(body, [c["name"] for c in version.schema])
    with unit_of_work(session):
        labeling = LabelingProject(project_id=project_id, created_by_id=user.id, **body.model_dump())
        session.add(labeling)
        session.flush()
        scan = datasets_service.scan_dataset_version(session, store=store, version_id=version.id)
        count = 0
        for rows in _task_rows(labeling, scan.select(columns)):
            _insert_tasks(session, rows)
            count += len(rows)
        labeling.task_count = count
    return labeling


TASK_COLUMNS = ("labeling_id", "row_index", "batch", "text", "fields", "target_count", "slots_left", "done_count")


def _insert_tasks(session: Session, chunk: pl.DataFrame) -> None:
    """Insert a chunk of tasks (`fields` as JSON text): COPY in CSV form on PostgreSQL, made by Polars, so no
    Python loop runs per row; a bulk INSERT elsewhere."""
    raw = session.connection().connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):
        rows = chunk.to_dicts()
        for row in rows:
            row["fields"] = json.loads(row["fields"])
        session.execute(insert(LabelingTask), rows)
        return
    data = chunk.write_csv(include_header=False, quote_style="non_numeric").encode("utf-8")
    with raw.cursor() as cursor, cursor.copy(f"COPY labeling_tasks ({', '.join(TASK_COLUMNS)}) FROM STDIN "
                                             "WITH (FORMAT csv)") as copy:
        copy.write(data)


def _task_rows(labeling: LabelingProject, scan: pl.LazyFrame) -> Iterator[pl.DataFrame]:
    """Chunks of task rows: the text, the shown fields as JSON text, and the overlap drawn with a seeded generator."""
    rng = np.random.default_rng(labeling.id)
    frame = scan.with_row_index("__row").collect(engine="streaming")
    size_columns = [c for c in (labeling.image_width_column, labeling.image_height_column) if c]
    shown = [pl.col(c).cast(pl.Utf8).alias(c) for c in labeling.fields]
    if size_columns:
        shown.append(pl.concat_list([pl.col(c).cast(pl.Float64, strict=False) for c in size_columns])
                     .alias("_image_size"))
    fields = pl.struct(shown).struct.json_encode() if shown else pl.lit("{}")
    for chunk in frame.iter_slices(INSERT_CHUNK):
        texts = chunk[labeling.text_column].cast(pl.Utf8).fill_null("")
        lengths = texts.str.len_chars()
        if len(chunk) and int(lengths.max() or 0) > MAX_TEXT_CHARS:  # type: ignore[arg-type]
            at = int((lengths > MAX_TEXT_CHARS).arg_true()[0])
            raise InvalidInput(f"{labeling.text_column}: row {int(chunk['__row'][at]) + 1} has {lengths[at]:,} "
                               f"characters; an item's text may have at most {MAX_TEXT_CHARS:,}.")
        overlap = rng.random(len(chunk)) < labeling.overlap_share
        target = pl.Series(np.where(overlap, labeling.overlap_count, 1).astype(np.int32))
        yield chunk.select(
            pl.lit(labeling.id, pl.Int64).alias("labeling_id"), pl.col("__row").cast(pl.Int64).alias("row_index"),
            (pl.col("__row") // labeling.batch_size).cast(pl.Int64).alias("batch"), pl.lit(texts).alias("text"),
            fields.alias("fields"), pl.lit(target).alias("target_count"), pl.lit(target).alias("slots_left"),
            pl.lit(0, pl.Int32).alias("done_count"))


# --- members and roles ------------------------------------------------------------------------------------------


def add_member(session: Session, *, labeling_id: int, username: str, role: MemberRole) -> MemberRead:
    """Give a member of the labeling project's mlpilot project a role in it."""
    with unit_of_work(session):
        labeling = get_labeling(session, labeling_id=labeling_id)
        user = accounts_service.find_user_by_username(session, username=username)
        if user is None:
            raise NotFound(f"username: no user named {username!r}.")
        if user.role != Role.admin and not projects_service.is_member(session, project_id=labeling.project_id,
                                                                          user_id=user.id):
            raise InvalidInput(f"username: {username!r} is not a member of this project; add them to it first.")
        if session.scalar(select(LabelingMember).where(LabelingMember.labeling_id == labeling_id,
                                                       LabelingMember.user_id == user.id)) is not None:
            raise Conflict(f"{username!r} already has a role in labeling project {labeling.name!r}.")
        answered = session.scalar(select(func.count()).where(  # answers given before, e.g. as an administrator
            LabelingAssignment.labeling_id == labeling_id, LabelingAssignment.user_id == user.id,
            LabelingAssignment.status != AssignmentStatus.open)) or 0
        session.add(LabelingMember(labeling_id=labeling_id, user_id=user.id, role=role, answered=answered))
    return MemberRead(user_id=user.id, username=user.username, role=role)


def list_members(session: Session, *, labeling_id: int) -> list[MemberRead]:
    rows = session.execute(select(LabelingMember, User.username).join(User, User.id == LabelingMember.user_id)
                           .where(LabelingMember.labeling_id == labeling_id).order_by(LabelingMember.id))
    return [MemberRead(user_id=member.user_id, username=name, role=MemberRole(member.role)) for member, name in rows]


def role_of(session: Session, *, labeling_id: int, user: User) -> MemberRole | None:
    role = session.scalar(select(LabelingMember.role).where(LabelingMember.labeling_id == labeling_id,
                                                            LabelingMember.user_id == user.id))
    return MemberRole(role) if role is not None else None


def require_role(session: Session, *, labeling_id: int, user: User, role: MemberRole) -> LabelingProject:
    """The labeling project, if `user` holds `role` in it (administrators hold every role)."""
    labeling = get_labeling(session, labeling_id=labeling_id)
    if user.role != Role.admin and role_of(session, labeling_id=labeling_id, user=user) != role:
        raise PermissionDenied(f"You are not an {role.value} of labeling project {labeling.name!r}."
                               if role == MemberRole.annotator else
                               f"You are not a {role.value} of labeling project {labeling.name!r}.")
    return labeling


# --- progress ---------------------------------------------------------------------------------------------------


def progress(session: Session, *, labeling_id: int) -> ProgressRead:
    """Counts of the work done, the inspection pass rate and the time per label."""
    labeling = get_labeling(session, labeling_id=labeling_id)
    tasks = select(func.coalesce(func.sum(LabelingTask.target_count), 0),
                   func.count().filter(LabelingTask.done_count >= LabelingTask.target_count)
                   ).where(LabelingTask.labeling_id == labeling_id)
    target, done = session.execute(tasks).one()
    by_status = dict(session.execute(select(LabelingAssignment.status, func.count())
                                     .where(LabelingAssignment.labeling_id == labeling_id)
                                     .group_by(LabelingAssignment.status)).tuples().all())
    by_review = dict(session.execute(select(LabelingAssignment.review, func.count())
                                     .where(LabelingAssignment.labeling_id == labeling_id,
                                            LabelingAssignment.review.is_not(None))
                                     .group_by(LabelingAssignment.review)).tuples().all())
    seconds = session.scalar(select(func.avg(LabelingAssignment.seconds_spent))
                             .where(LabelingAssignment.labeling_id == labeling_id,
                                    LabelingAssignment.status == AssignmentStatus.submitted))
    reviewed = sum(by_review.values())
    passed = by_review.get(ReviewDecision.accepted, 0) + by_review.get(ReviewDecision.fixed, 0)
    return ProgressRead(
        task_count=labeling.task_count, target_labels=int(target), items_done=int(done),
        submitted=by_status.get(AssignmentStatus.submitted, 0), skipped=by_status.get(AssignmentStatus.skipped, 0),
        open=by_status.get(AssignmentStatus.open, 0), reviewed=reviewed, accepted=passed,
        rejected=by_review.get(ReviewDecision.rejected, 0), pass_rate=passed / reviewed if reviewed else None,
        seconds_per_label=float(seconds) if seconds is not None else None)
