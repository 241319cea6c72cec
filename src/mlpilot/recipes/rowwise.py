"""The row-wise part of a recipe, carried with a model into serving and batch scoring (no training–serving skew).

At registration, `freeze_row_steps` turns the recipe a model's training data was made with into steps that act on
one row at a time: statistics computed on the whole table are frozen to the values the recipe used (impute by
mean/median/mode becomes a constant, outlier bounds by IQR/z-score become fixed bounds), steps that only remove
rows (filter, dropping duplicates or outliers) are left out — a served row is always answered — and the rest
(casts, dates, text tidying, constant imputation, mappings, derived columns, masking) are kept as written. A step
that needs the whole table and would change what the model reads (flagging duplicates into a model input) is
refused. The frozen steps are stored with the model version and written next to the model (ROW_STEPS_FILE).

`RowSteps` applies them to served rows: the steps that apply to the model's own input columns (renames, column
selection and steps whose columns a request does not carry are left out), vectorised over a request's rows.
When every kept step fills missing numbers with a constant, the fill runs on the float matrix numeric models
take (no data frame at all), so the data plane's fast path stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.recipes.steps import ROW_ID, ImputeStep, StepBase, StepError, apply_steps, validate_steps
from mlpilot.recipes.steps.base import Context

ROW_STEPS_FILE = "row_steps.json"
# Steps that only remove rows: skipped when serving (the rows that pass are unchanged by them).
ROW_REMOVING = {"filter"}
# Steps left out of serving because a request carries the model's own (post-recipe) column names.
NAME_STEPS = {"rename", "select", "drop"}


@dataclass
class FrozenRecipe:
    """The row-wise steps of a recipe and what was left out of serving, and why."""

    steps: list[dict[str, Any]]
    # {"step": 1-based index, "op": ..., "reason": "removes_rows" | "flag_not_input"}
    skipped: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"steps": self.steps, "skipped": self.skipped}


def freeze_row_steps(steps: Sequence[StepBase | Mapping[str, object]], source: pl.DataFrame, *,
                     model_inputs: Sequence[str]) -> FrozenRecipe:
    """Freeze a recipe for serving from the data it was applied to; raise InvalidInput for a step that cannot be
    applied row by row and would change what the model reads (the message names the step and the rule)."""
    parsed = [s for s in validate_steps(list(steps))]
    _, reports = apply_steps(source, parsed)
    inputs = set(model_inputs)
    frozen: list[dict[str, Any]] = []
    skipped: list[dict[str, object]] = []
    for index, (step, report) in enumerate(zip(parsed, reports, strict=True), start=1):
        at = f"Step {index} ({step.op})"
        if step.disabled or step.op == "detect_pii":
            continue
        data = step.stored()
        if step.op in ROW_REMOVING or (step.op in ("duplicates", "outliers") and data.get("action", _default(step))
                                        == "drop"):
            skipped.append({"step": index, "op": step.op, "reason": "removes_rows"})
            continue
        if step.op == "duplicates":
            flag = data.get("flag_column") or "is_duplicate"
            if flag in inputs:
                raise InvalidInput(f"{at} flags duplicate rows in {flag!r}, a column the model reads; whether a "
                                   "served row is a duplicate depends on the whole table, so the model cannot be "
                                   "served without skew. Drop the flag column before training, or drop "
                                   "duplicates instead of flagging them.")
            skipped.append({"step": index, "op": step.op, "reason": "flag_not_input"})
            continue
        if step.op == "impute" and data["strategy"] != "constant":
            filled = report.details.get("filled", {})
            for column, info in filled.items():
                if info.get("value") is not None:
                    frozen.append({"op": "impute", "columns": [column], "strategy": "constant",
                                   "value": info["value"]})
            continue
        if step.op == "outliers" and data.get("method", "iqr") != "bounds":
            for column, info in report.details.get("bounds", {}).items():
                if info.get("lower") is None and info.get("upper") is None:
                    continue
                item = {**{k: v for k, v in data.items() if k not in ("method", "k", "threshold")},
                        "columns": [column], "method": "bounds"}
                item.update({k: info[k] for k in ("lower", "upper") if info.get(k) is not None})
                frozen.append(item)
            continue
        frozen.append(data)
    return FrozenRecipe(steps=frozen, skipped=skipped)


def _default(step: StepBase) -> Any:
    return getattr(step, "action", None)


def filled_columns(steps: Sequence[Mapping[str, object]]) -> set[str]:
    """The columns the frozen steps give a value when it is missing (served blanks there are accepted)."""
    found: set[str] = set()
    for step in steps:
        columns = step.get("columns")
        if step.get("op") == "impute" and not step.get("disabled") and isinstance(columns, list):
            found.update(str(c) for c in columns)
    return found


class _Column(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dtype(self) -> str: ...


class _Signature(Protocol):
    @property
    def inputs(self) -> Sequence[_Column]: ...

    @property
    def input_names(self) -> list[str]: ...


_POLARS = {"float64": pl.Float64, "int64": pl.Float64, "bool": pl.Float64, "string": pl.String}


class RowSteps:
    """Frozen row-wise steps compiled for one model's input columns."""

    def __init__(self, steps: Sequence[Mapping[str, object]], signature: _Signature) -> None:
        self.signature = signature
        probe = pl.DataFrame([pl.Series(c.name, [None], dtype=_POLARS[c.dtype]) for c in signature.inputs])
        kept: list[StepBase] = []
        parsed: list[StepBase] = list(validate_steps([dict(s) for s in steps]))
        for step in parsed:
            if step.disabled or step.op in NAME_STEPS:
                continue
            try:  # a step whose columns a request does not carry cannot run on served rows
                probe = apply_steps(probe, [step])[0].collect()
            except StepError:
                continue
            kept.append(step)
        self.steps = kept
        names = signature.input_names
        numeric = {c.name for c in signature.inputs if c.dtype != "string"}
        # The fast path: every step fills missing numbers of model inputs with a constant number.
        self.fills: dict[int, float] | None = {}
        for item in kept:
            if (isinstance(item, ImputeStep) and item.strategy == "constant" and set(item.columns) <= numeric
                    and isinstance(item.value, (int, float)) and not isinstance(item.value, bool)):
                for column in item.columns:
                    self.fills[names.index(column)] = float(item.value)
            else:
                self.fills = None
                break

    def __bool__(self) -> bool:
        return bool(self.steps)

    def fill_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """The fast path: fill the missing values of a float matrix (rows × model inputs) in place."""
        assert self.fills is not None
        for j, value in self.fills.items():
            column = matrix[:, j]
            column[np.isnan(column)] = value
        return matrix

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Apply the steps to served rows (model input columns); raise InvalidInput naming a value a step refuses."""
        # The data plane hands missing numbers over as NaN; the steps (as at training) see them as missing.
        floats = [n for n, t in frame.schema.items() if t.is_float()]
        if floats:
            frame = frame.with_columns(pl.col(floats).fill_nan(None))
        data = frame.with_row_index(ROW_ID, offset=1)
        for index, step in enumerate(self.steps, start=1):  # validated once, at load: no reports, no copies
            data = step.apply(Context(index, step.op, data)).frame
        out = data.drop(ROW_ID)
        return out.select([c for c in self.signature.input_names if c in out.columns]) if out.width else out


def read_row_steps(path: Path) -> list[dict[str, object]] | None:
    """The frozen steps stored next to the model in folder `path`, or None."""
    file = Path(path) / ROW_STEPS_FILE
    if not file.is_file():
        return None
    data = json.loads(file.read_text())
    return list(data.get("steps") or [])


def write_row_steps(path: Path, frozen: FrozenRecipe) -> None:
    """Store the frozen steps next to the model in folder `path`."""
    (Path(path) / ROW_STEPS_FILE).write_text(json.dumps(frozen.to_dict(), indent=2, ensure_ascii=False,
                                                        default=str))


__all__ = ["ROW_STEPS_FILE", "FrozenRecipe", "RowSteps", "filled_columns", "freeze_row_steps", "read_row_steps",
           "write_row_steps"]
