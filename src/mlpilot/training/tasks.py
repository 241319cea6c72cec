"""Which learning task a target column supports: inference for task 'auto' and the checks behind each task.

Pure: works on a Polars Series, raises InvalidInput with a message that names the column and the rule.
"""

from __future__ import annotations

import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.signature import Task

TASK_CHOICES = ("auto", "binary", "multiclass", "regression")
MAX_CLASSES = 100
# An integer target with more distinct values than this is treated as a quantity under task 'auto'.
AUTO_MAX_INTEGER_CLASSES = 20


def class_labels(series: pl.Series) -> list[str]:
    """Return the target's classes as strings (Polars' own casting, so encoding matches), in natural order."""
    values = series.drop_nulls().unique().sort()
    return [str(v) for v in values.cast(pl.String).to_list()]


def _is_whole(series: pl.Series) -> bool:
    if series.dtype.is_integer() or series.dtype == pl.Boolean:
        return True
    if series.dtype.is_float():
        clean = series.drop_nulls().drop_nans()
        return bool((clean == clean.round(0)).all())
    return False


def resolve_task(series: pl.Series, *, target: str, task: str) -> tuple[Task, list[str] | None]:
    """Check that `task` fits the target column; return the concrete task and, for classification, its classes."""
    if task not in TASK_CHOICES:
        raise InvalidInput(f"Unknown task {task!r}; expected one of: {', '.join(TASK_CHOICES)}.")
    values = series.drop_nulls()
    if values.dtype.is_float():
        values = values.drop_nans()
    if values.len() == 0:
        raise InvalidInput(f"target {target!r} has no values (every row is missing).")
    numeric = values.dtype.is_numeric()
    distinct = values.n_unique()
    concrete: Task
    if task == "auto":
        if numeric and (not _is_whole(values) or distinct > AUTO_MAX_INTEGER_CLASSES):
            concrete = "regression"
        else:
            concrete = "binary" if distinct <= 2 else "multiclass"
    else:
        concrete = "regression" if task == "regression" else "binary" if task == "binary" else "multiclass"
    task = concrete
    if concrete == "regression":
        if not numeric:
            raise InvalidInput(f"regression needs a numeric target; {target!r} has type {values.dtype}.")
        if distinct < 2:
            raise InvalidInput(f"target {target!r} has a single value {values[0]!r}; there is nothing to learn.")
        return concrete, None
    if distinct == 1:
        raise InvalidInput(f"target {target!r} has a single class {str(values[0])!r}; "
                           "classification needs at least two classes.")
    if distinct > MAX_CLASSES:
        raise InvalidInput(f"target {target!r} has {distinct} classes; classification supports at most "
                           f"{MAX_CLASSES} (use task 'regression' for a numeric quantity).")
    if task == "binary" and distinct != 2:
        raise InvalidInput(f"task 'binary' needs a target with exactly 2 classes; {target!r} has {distinct} "
                           "(use 'multiclass').")
    if task == "multiclass" and distinct < 3:
        raise InvalidInput(f"task 'multiclass' needs at least 3 classes; {target!r} has {distinct} (use 'binary').")
    return concrete, class_labels(values)
