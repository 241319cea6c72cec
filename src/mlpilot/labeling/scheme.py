"""Check an answer against a project's label scheme and turn it into the stored JSON label."""

from __future__ import annotations

from dataclasses import dataclass

from mlpilot.core.errors import InvalidInput
from mlpilot.labeling.models import SchemeKind
from mlpilot.labeling.schemas import LabelIn

StoredLabel = dict[str, object]


@dataclass(frozen=True)
class Scheme:
    kind: SchemeKind
    labels: list[str]


@dataclass(frozen=True)
class ItemContext:
    """What an answer is checked against: the item's text (spans) and its image size (boxes)."""
    text: str
    width: float | None = None
    height: float | None = None


def _known(scheme: Scheme, value: str, field: str) -> None:
    if value not in scheme.labels:
        raise InvalidInput(f"{field}: {value!r} is not in the label scheme ({', '.join(scheme.labels)}).")


def _only(value: LabelIn, field: str) -> None:
    given = [name for name in ("label", "labels", "spans", "boxes") if getattr(value, name) is not None]
    if given != [field]:
        raise InvalidInput(f"value: this project expects only '{field}' (got {', '.join(given) or 'nothing'}).")


def check_label(scheme: Scheme, value: LabelIn, item: ItemContext) -> StoredLabel:
    """Return the stored form of `value`, or raise InvalidInput naming the field that breaks the scheme."""
    if scheme.kind == SchemeKind.classification:
        _only(value, "label")
        label = value.label or ""
        _known(scheme, label, "value.label")
        return {"label": label}
    if scheme.kind == SchemeKind.multilabel:
        _only(value, "labels")
        labels = value.labels or []
        if not labels:
            raise InvalidInput("value.labels: choose at least one label (or skip the item).")
        if len(set(labels)) != len(labels):
            raise InvalidInput("value.labels: a label is given twice.")
        for i, label in enumerate(labels):
            _known(scheme, label, f"value.labels[{i}]")
        return {"labels": sorted(labels, key=scheme.labels.index)}
    if scheme.kind == SchemeKind.spans:
        return {"spans": _check_spans(scheme, value, item.text)}
    return {"boxes": _check_boxes(scheme, value, item)}


def _check_spans(scheme: Scheme, value: LabelIn, text: str) -> list[StoredLabel]:
    _only(value, "spans")
    ordered = sorted(enumerate(value.spans or []), key=lambda pair: (pair[1].start, pair[1].end))
    previous: tuple[int, int] | None = None
    for i, span in ordered:
        field = f"value.spans[{i}]"
        _known(scheme, span.type, f"{field}.type")
        if not span.start < span.end <= len(text):
            raise InvalidInput(f"{field}: [{span.start}, {span.end}) is outside the text of {len(text)} characters "
                               "or empty (start < end <= length).")
        if previous is not None and span.start < previous[1]:
            raise InvalidInput(f"{field}: [{span.start}, {span.end}) overlaps the span [{previous[0]}, "
                               f"{previous[1]}); entity spans may not overlap or nest.")
        previous = (span.start, span.end)
    return [{"start": s.start, "end": s.end, "type": s.type, "text": text[s.start:s.end]} for _, s in ordered]


def _check_boxes(scheme: Scheme, value: LabelIn, item: ItemContext) -> list[StoredLabel]:
    _only(value, "boxes")
    if item.width is None or item.height is None:
        raise InvalidInput("This item has no image size; boxes cannot be checked (see the image size columns).")
    boxes = []
    for i, box in enumerate(value.boxes or []):
        field = f"value.boxes[{i}]"
        _known(scheme, box.label, f"{field}.label")
        if box.width <= 0 or box.height <= 0:
            raise InvalidInput(f"{field}: width and height must be positive.")
        if box.x < 0 or box.y < 0 or box.x + box.width > item.width or box.y + box.height > item.height:
            raise InvalidInput(f"{field}: the box ({box.x}, {box.y}, {box.width} × {box.height}) is outside the "
                               f"image of {item.width:g} × {item.height:g}.")
        boxes.append({"x": box.x, "y": box.y, "width": box.width, "height": box.height, "label": box.label})
    return boxes
