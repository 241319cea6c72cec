"""Recipe steps: one model per operation, joined in a union discriminated by "op", and their application to a
Polars frame.

A step is stored as the JSON object it was written as (an "op" and its options); `validate_steps` reads such a
list into step models, or raises InvalidInput naming the step (1-based), its op and the bad field.
`apply_steps` runs the steps in order, counting rows in and out per step; a step that fails on some rows raises
StepError naming the step, the column and the first failing data rows (1-based rows of the input), unless its
policy is to null and flag them instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, get_args

import polars as pl
from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from mlpilot.core.errors import InvalidInput
from mlpilot.recipes.steps.base import (
    EXPRESSION_ERROR,
    FIELD_ERROR,
    ROW_ID,
    RULE_ERROR,
    SHOWN_ROWS,
    Context,
    StepBase,
    StepError,
    StepReport,
    where,
)
from mlpilot.recipes.steps.cleaning import DuplicatesStep, ImputeStep, MapValuesStep, OutliersStep
from mlpilot.recipes.steps.columns import DropStep, RenameStep, SelectStep
from mlpilot.recipes.steps.formulas import DeriveStep, FilterStep
from mlpilot.recipes.steps.text import DetectPiiStep, MaskPiiStep, NormalizeTextStep
from mlpilot.recipes.steps.types import CAST_TYPES, CastStep, ParseDateStep

MAX_STEPS = 200

STEP_TYPES: tuple[type[StepBase], ...] = (
    CastStep, ParseDateStep, NormalizeTextStep, ImputeStep, DuplicatesStep, OutliersStep, FilterStep, SelectStep,
    DropStep, RenameStep, DeriveStep, MapValuesStep, MaskPiiStep, DetectPiiStep,
)
Step = Annotated[
    CastStep | ParseDateStep | NormalizeTextStep | ImputeStep | DuplicatesStep | OutliersStep | FilterStep
    | SelectStep | DropStep | RenameStep | DeriveStep | MapValuesStep | MaskPiiStep | DetectPiiStep,
    Field(discriminator="op"),
]
BY_OP: dict[str, type[StepBase]] = {get_args(t.model_fields["op"].annotation)[0]: t for t in STEP_TYPES}
OPS = tuple(BY_OP)

_STEPS: TypeAdapter[list[Step]] = TypeAdapter(list[Step])


def _message(raw: list[object], error: ErrorDetails) -> tuple[str, bool]:
    """Turn the first pydantic error of a step list into today's message; True when it is an expression's."""
    loc, kind = error["loc"], error["type"]
    index = int(loc[0]) + 1
    step = raw[index - 1]
    if len(loc) == 1:
        if not isinstance(step, dict):
            return f"Step {index} must be an object with an 'op'; got {type(step).__name__}.", False
        return f"Step {index}: unknown op {step.get('op')!r}; use one of {', '.join(OPS)}.", False
    op = str(loc[1])
    at = where(index, op)
    name = str(loc[2]) if len(loc) > 2 else None
    if kind in (RULE_ERROR, EXPRESSION_ERROR) or name is None:
        return f"{at}: {error['msg']}", kind == EXPRESSION_ERROR
    if kind == "missing" and isinstance(step, dict):
        # A required key that is absent reads as null: the field's own message, "…; got None." where it shows it.
        try:
            BY_OP[op].model_validate({**step, name: None})
        except ValidationError as exc:
            found = [e for e in exc.errors() if e["loc"][:1] == (name,) and e["type"] == FIELD_ERROR]
            if found:
                return f"{at}: '{name}' {found[0]['msg']}", False
        return f"{at}: '{name}' is required.", False
    if kind == FIELD_ERROR:
        return f"{at}: '{name}' {error['msg']}", False
    return f"{at}: '{'.'.join(map(str, loc[2:]))}': {error['msg']}.", False


def validate_steps(steps: object) -> list[Step]:
    """Read a step list (JSON objects, or steps already read) without data; raise InvalidInput naming the bad step.

    The message names the step (1-based), its op and the field; an expression that does not parse raises
    StepError, as applying it would.
    """
    if not isinstance(steps, list):
        raise InvalidInput("A recipe's steps must be a JSON list of step objects.")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"A recipe has at most {MAX_STEPS} steps; got {len(steps)}.")
    try:
        return _STEPS.validate_python(steps)
    except ValidationError as exc:
        message, expression = _message(steps, exc.errors()[0])
        raise (StepError if expression else InvalidInput)(message) from None


def dump_steps(steps: Sequence[StepBase]) -> list[dict[str, object]]:
    """The JSON objects steps are stored as: each with the keys it was written with."""
    return [step.stored() for step in steps]


def describe_step(step: StepBase | Mapping[str, object]) -> str:
    """Return a short readable summary of a step for lists and reports (its op when it is not a valid step)."""
    if isinstance(step, StepBase):
        return step.describe()
    try:
        return validate_steps([dict(step)])[0].describe()
    except InvalidInput:
        return str(step.get("op"))


def as_text(series: pl.Series) -> pl.Series:
    """A column's values as text for comparing cells (nested values through their Python form)."""
    try:
        return series.cast(pl.String)
    except pl.exceptions.PolarsError:
        return pl.Series(series.name, [None if v is None else str(v) for v in series.to_list()], dtype=pl.String)


def cell_changes(before: pl.DataFrame, after: pl.DataFrame) -> tuple[int, int]:
    """Count the cells of `after` that differ from `before` (rows matched by ROW_ID; values compared as text, so a
    cast of "12" to 12 is no change) and, of those, the cells that were missing and got a value. A new column's
    non-missing cells count as changed and filled."""
    if after.height == 0:
        return 0, 0
    old = pl.DataFrame([before.get_column(ROW_ID), *[as_text(before.get_column(c)) for c in before.columns
                                                      if c != ROW_ID]])
    joined = after.select(ROW_ID).join(old, on=ROW_ID, how="left")
    changed = filled = 0
    for column in after.columns:
        if column == ROW_ID:
            continue
        new = as_text(after.get_column(column))
        if column in joined.columns:
            prior = joined.get_column(column)
            changed += int(new.ne_missing(prior).sum())
            filled += int((prior.is_null() & new.is_not_null()).sum())
        else:
            count = int(new.is_not_null().sum())
            changed, filled = changed + count, filled + count
    return changed, filled


def apply_steps(frame: pl.LazyFrame | pl.DataFrame, steps: Sequence[StepBase | Mapping[str, object]], *,
                track: bool = False, keep_row_id: bool = False) -> tuple[pl.LazyFrame, list[StepReport]]:
    """Apply the steps in order and return the result with one report per step; raise StepError on failure.

    Steps run on a materialised frame so each report can count rows and name failing rows exactly. A disabled
    step is reported as skipped. With `track`, each report also counts the cells the step changed and filled
    (for previews: it compares every cell); with `keep_row_id` the result keeps ROW_ID (1-based input rows).
    """
    parsed = validate_steps(steps)
    data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    if ROW_ID in data.columns:
        raise StepError(f"The data has a column named {ROW_ID!r}, which recipes reserve.")
    data = data.with_row_index(ROW_ID, offset=1)
    reports: list[StepReport] = []
    for index, step in enumerate(parsed, start=1):
        rows_in = data.height
        if step.disabled:
            reports.append(StepReport(step=index, op=step.op, label=step.describe(), rows_in=rows_in,
                                      rows_out=rows_in, skipped=True))
            continue
        try:
            outcome = step.apply(Context(index, step.op, data))
        except StepError as exc:
            exc.reports = reports  # what ran before the failure, for previews
            raise
        changed, filled = cell_changes(data, outcome.frame) if track else (0, 0)
        data = outcome.frame
        reports.append(StepReport(step=index, op=step.op, label=step.describe(), rows_in=rows_in,
                                  rows_out=data.height, flagged=outcome.flagged, errors=outcome.errors,
                                  details=outcome.details, cells_changed=changed, cells_filled=filled))
    return (data if keep_row_id else data.drop(ROW_ID)).lazy(), reports


# The API's step lists: documented as the union (every op with its fields); read by validate_steps, so a bad step
# is refused with the same message as anywhere else (InvalidInput, 422) rather than pydantic's.
StepList = Annotated[list[Step], BeforeValidator(validate_steps)]

__all__ = [
    "CAST_TYPES", "MAX_STEPS", "OPS", "ROW_ID", "SHOWN_ROWS", "STEP_TYPES", "CastStep", "DeriveStep", "DetectPiiStep",
    "DropStep", "DuplicatesStep", "FilterStep", "ImputeStep", "MapValuesStep", "MaskPiiStep", "NormalizeTextStep",
    "OutliersStep", "ParseDateStep", "RenameStep", "SelectStep", "Step", "StepBase", "StepError", "StepList",
    "StepReport", "apply_steps", "as_text", "cell_changes", "describe_step", "dump_steps", "validate_steps",
]
