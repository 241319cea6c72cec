"""Exports of a project's labels (CSV, JSON Lines, Label Studio JSON), streamed page by page, and the accepted
labels written as a new dataset version with lineage."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mlpilot.accounts.models import User
from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.labeling.models import (
    AssignmentStatus,
    LabelingAssignment,
    LabelingProject,
    LabelingTask,
    ReviewDecision,
    SchemeKind,
)
from mlpilot.labeling.review import label_key, project_agreement
from mlpilot.labeling.schemas import ToDatasetIn, ToDatasetRead
from mlpilot.labeling.service import get_labeling

FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson", "labelstudio": "application/json"}
PAGE = 1_000  # tasks read per query while streaming


@dataclass(frozen=True)
class Answer:
    annotator: str
    label: dict[str, object]
    review: str | None
    reason: str
    reviewed_label: dict[str, object] | None
    seconds: float | None


def _pages(session: Session, labeling_id: int) -> Iterator[list[tuple[LabelingTask, list[Answer]]]]:
    """Tasks that have submitted labels, in order, a page at a time (keyset pagination keeps memory flat)."""
    last = 0
    while True:
        tasks = list(session.scalars(select(LabelingTask).where(LabelingTask.labeling_id == labeling_id,
                                                                LabelingTask.id > last, LabelingTask.done_count > 0)
                                     .order_by(LabelingTask.id).limit(PAGE)))
        if not tasks:
            return
        last = tasks[-1].id
        answers: dict[int, list[Answer]] = defaultdict(list)
        rows = session.execute(select(LabelingAssignment, User.username)
                               .join(User, User.id == LabelingAssignment.user_id)
                               .where(LabelingAssignment.task_id.in_([t.id for t in tasks]),
                                      LabelingAssignment.status == AssignmentStatus.submitted)
                               .order_by(LabelingAssignment.id)).tuples()
        for a, name in rows:
            answers[a.task_id].append(Answer(name, a.label or {}, a.review, a.review_reason, a.reviewed_label,
                                             a.seconds_spent))
        yield [(t, answers[t.id]) for t in tasks if answers[t.id]]
        session.expunge_all()


def stream_export(sessions: sessionmaker[Session], *, labeling_id: int, fmt: str) -> Iterator[bytes]:
    """The export as chunks of bytes, read with its own session while the response streams."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format: use one of {', '.join(FORMATS)}.")
    with session_scope(sessions) as session:
        labeling = get_labeling(session, labeling_id=labeling_id)
        kind = labeling.kind
        if fmt == "labelstudio":
            yield b"["
        first = True
        for page in _pages(session, labeling_id):
            if fmt == "csv":
                yield _csv_page(kind, page, header=first).encode("utf-8")
            elif fmt == "jsonl":
                yield "".join(json.dumps(_jsonl(task, answers), ensure_ascii=False) + "\n"
                              for task, answers in page).encode("utf-8")
            else:
                parts = [json.dumps(_label_studio(kind, task, answers), ensure_ascii=False) for task, answers in page]
                yield (("" if first else ",") + ",".join(parts)).encode("utf-8") if parts else b""
            first = first and not page
        if fmt == "csv" and first:
            yield _csv_page(kind, [], header=True).encode("utf-8")
        if fmt == "labelstudio":
            yield b"]"


def _csv_page(kind: str, page: list[tuple[LabelingTask, list[Answer]]], *, header: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(["task_id", "row_index", "annotator", "label", "review", "review_reason", "reviewed_label",
                         "seconds_spent", "text"])
    for task, answers in page:
        for a in answers:
            writer.writerow([task.id, task.row_index, a.annotator, label_key(kind, a.label), a.review or "",
                             a.reason, label_key(kind, a.reviewed_label) if a.reviewed_label else "",
                             "" if a.seconds is None else f"{a.seconds:.2f}", task.text])
    return out.getvalue()


def _jsonl(task: LabelingTask, answers: list[Answer]) -> dict[str, object]:
    return {"task_id": task.id, "row_index": task.row_index, "text": task.text,
            "fields": {k: v for k, v in task.fields.items() if not k.startswith("_")},
            "annotations": [{"annotator": a.annotator, **a.label, "review": a.review, "review_reason": a.reason,
                             "reviewed_label": a.reviewed_label} for a in answers]}


def _ls_result(kind: str, label: dict[str, object], size: object) -> list[dict[str, object]]:
    """A label as Label Studio `result` regions (choices, labels or rectanglelabels, boxes in percent)."""
    base = {"from_name": "label", "to_name": "image" if kind == SchemeKind.boxes else "text"}
    if kind == SchemeKind.classification:
        return [{**base, "type": "choices", "value": {"choices": [label.get("label")]}}]
    if kind == SchemeKind.multilabel:
        return [{**base, "type": "choices", "value": {"choices": label.get("labels")}}]
    if kind == SchemeKind.spans:
        spans = label.get("spans")
        return [{**base, "type": "labels", "value": {"start": s["start"], "end": s["end"], "text": s.get("text"),
                                                      "labels": [s["type"]]}}
                for s in (spans if isinstance(spans, list) else []) if isinstance(s, dict)]
    width, height = size if isinstance(size, list) and len(size) == 2 else (1.0, 1.0)
    boxes = label.get("boxes")
    return [{**base, "type": "rectanglelabels", "original_width": width, "original_height": height,
             "value": {"x": 100 * b["x"] / width, "y": 100 * b["y"] / height, "width": 100 * b["width"] / width,
                       "height": 100 * b["height"] / height, "rotation": 0, "rectanglelabels": [b["label"]]}}
            for b in (boxes if isinstance(boxes, list) else []) if isinstance(b, dict)]


def _label_studio(kind: str, task: LabelingTask, answers: list[Answer]) -> dict[str, object]:
    size = task.fields.get("_image_size")
    data = {"text": task.text, **{k: v for k, v in task.fields.items() if not k.startswith("_")}}
    return {"id": task.id, "data": data, "meta": {"row_index": task.row_index},
            "annotations": [{"completed_by": a.annotator, "lead_time": a.seconds,
                             "was_cancelled": a.review == ReviewDecision.rejected,
                             "result": _ls_result(kind, a.reviewed_label or a.label, size)} for a in answers]}


# --- accepted labels into a dataset version ----------------------------------------------------------------------


def accepted_labels(session: Session, labeling: LabelingProject) -> tuple[dict[int, str], set[str]]:
    """row index → the final label text of rows with accepted (or fixed) labels, and who gave them; several
    accepted labels of a row are settled by majority, the earliest winning a tie."""
    final: dict[int, str] = {}
    annotators: set[str] = set()
    for page in _pages(session, labeling.id):
        for task, answers in page:
            passed = [a for a in answers if a.review in (ReviewDecision.accepted, ReviewDecision.fixed)]
            if passed:
                keys = [label_key(labeling.kind, a.reviewed_label or a.label) for a in passed]
                final[task.row_index] = Counter(keys).most_common(1)[0][0]
                annotators.update(a.annotator for a in passed)
    return final, annotators


def to_dataset_version(session: Session, *, runtime: Runtime, labeling_id: int, user: User,
                       body: ToDatasetIn) -> ToDatasetRead:
    """Write the rows with accepted labels, plus the label column, as a new version with the labeling lineage."""
    labeling = get_labeling(session, labeling_id=labeling_id)
    final, annotators = accepted_labels(session, labeling)
    if not final:
        raise InvalidInput("No accepted labels yet: review some labels first.")
    source = datasets_service.read_dataset_version_frame(session, store=runtime.store,
                                                         version_id=labeling.dataset_version_id)
    if body.label_column in source.columns:
        raise InvalidInput(f"label_column: the dataset already has a column {body.label_column!r}; choose another.")
    labels = pl.DataFrame({"__row": list(final), body.label_column: list(final.values())},
                          schema={"__row": pl.UInt32, body.label_column: pl.Utf8})
    frame = source.with_row_index("__row").join(labels, on="__row", how="inner").sort("__row").drop("__row")
    quality = project_agreement(session, labeling_id=labeling_id)
    lineage = {
        "source": f"labeling:{labeling.name}", "format": "labeling", "parents": [labeling.dataset_version_id],
        "rows_in": source.height, "rows_out": frame.height,
        "labeling": {"id": labeling.id, "name": labeling.name, "kind": labeling.kind, "labels": labeling.labels,
                     "label_column": body.label_column, "accepted_rows": len(final),
                     "annotators": sorted(annotators),
                     "agreement": {"fleiss_kappa": quality.fleiss_kappa,
                                   "krippendorff_alpha": quality.krippendorff_alpha,
                                   "pairwise_f1": quality.pairwise_f1}},
    }
    with unit_of_work(session):
        version, job_id = datasets_service.create_dataset_version_from_frame(
            session, runtime=runtime, project_id=labeling.project_id, name=body.name, frame=frame, lineage=lineage,
            user_id=user.id, description=f"Accepted labels of labeling project {labeling.name}")
    return ToDatasetRead(dataset_version_id=version.id, dataset_id=version.dataset_id, version=version.version,
                         rows=frame.height, profile_job_id=job_id)
