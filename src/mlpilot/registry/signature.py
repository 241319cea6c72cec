"""A model's input/output contract: column names, types and categories, task and classes.

Plain frozen dataclasses, so the data plane and jobs can carry them without touching the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import polars as pl


Task = Literal["binary", "multiclass", "regression"]
DType = Literal["float64", "int64", "bool", "string"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: DType
    nullable: bool = True
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Signature:
    inputs: tuple[ColumnSpec, ...]
    task: Task
    target: str
    classes: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.inputs if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["inputs"] = [{**c, "categories": list(c["categories"]) if c["categories"] is not None else None}
                          for c in data["inputs"]]
        data["classes"] = list(self.classes) if self.classes is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        inputs = tuple(
            ColumnSpec(name=c["name"], dtype=c["dtype"], nullable=bool(c.get("nullable", True)),
                       categories=tuple(c["categories"]) if c.get("categories") is not None else None)
            for c in data["inputs"]
        )
        classes = tuple(str(x) for x in data["classes"]) if data.get("classes") is not None else None
        return cls(inputs=inputs, task=data["task"], target=data["target"], classes=classes,
                   extra=dict(data.get("extra") or {}))


def dtype_of(series: pl.Series) -> DType:
    """Map a Polars dtype to the signature's small type vocabulary."""
    import polars as pl  # here, not at module level: the lean data plane serving numeric models never loads Polars

    dtype = series.dtype
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int64"
    if dtype.is_numeric():
        return "float64"
    return "string"


def infer_signature(frame: pl.DataFrame, *, target: str, task: Task, classes: list[str] | None,
                    max_categories: int = 1000) -> Signature:
    """Describe the feature columns of a training frame (every column except the target)."""
    inputs = []
    for name in frame.columns:
        if name == target:
            continue
        series = frame[name]
        dtype = dtype_of(series)
        categories = None
        if dtype == "string":
            values = series.drop_nulls().unique().sort().to_list()
            categories = tuple(str(v) for v in values[:max_categories]) if len(values) <= max_categories else None
        inputs.append(ColumnSpec(name=name, dtype=dtype, nullable=series.null_count() > 0 or _has_nan(series),
                                 categories=categories))
    return Signature(inputs=tuple(inputs), task=task, target=target,
                     classes=tuple(str(c) for c in classes) if classes is not None else None)


def _has_nan(series: pl.Series) -> bool:
    return series.dtype.is_float() and bool(series.is_nan().any())
