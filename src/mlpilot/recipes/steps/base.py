"""What every recipe step shares: the model base, the field types with their readable errors, and the context a
step is applied in (the frame, its input row numbers, and error builders that name the step, column and rows).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from mlpilot.core.errors import InvalidInput

ROW_ID = "__mlpilot_row__"
SHOWN_ROWS = 5

# Error types of step validation: a field's own message ("'column' must be …"), a rule across fields or about
# the whole step ("strategy 'constant' needs a 'value'"), and an expression that does not parse.
FIELD_ERROR = "step_field"
RULE_ERROR = "step_rule"
EXPRESSION_ERROR = "step_expression"


class StepError(InvalidInput):
    """A step that cannot be applied to this data; the message names the step, column and rows."""

    reports: list[StepReport] | None = None


@dataclass
class StepReport:
    """What one step did: rows in and out, rows or cells flagged, non-fatal errors, and op-specific details."""

    step: int
    op: str
    label: str
    rows_in: int
    rows_out: int
    flagged: int = 0
    errors: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    # Filled when the steps are applied with tracking (previews): cells whose value changed, of which cells that
    # were missing and got a value; and whether the step was skipped (disabled).
    cells_changed: int = 0
    cells_filled: int = 0
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outcome:
    """The frame after a step, with the count of rows or cells it flagged, non-fatal errors and details."""

    frame: pl.DataFrame
    flagged: int = 0
    errors: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def where(index: int, op: str) -> str:
    """How messages name a step: "Step 2 (cast)" (1-based)."""
    return f"Step {index} ({op})"


def rule_error(message: str) -> PydanticCustomError:
    """A step-level validation error; the caller prefixes it with the step's name."""
    return PydanticCustomError(RULE_ERROR, message)


# Field types -----------------------------------------------------------------------------------------------

def hint(message: str, *, show_value: bool = False) -> WrapValidator:
    """Replace pydantic's errors for a field by one readable message ("must be a non-empty string.").

    The field name is put in front by validate_steps; with `show_value` the message ends "; got <value>.".
    """
    def check(value: object, handler: ValidatorFunctionWrapHandler) -> object:
        try:
            return handler(value)
        except ValidationError:
            shown = repr(value) if len(repr(value)) <= 80 else f"{repr(value)[:77]}…"
            text = f"{message}; got {shown}." if show_value else f"{message}."
            raise PydanticCustomError(FIELD_ERROR, text) from None
    return WrapValidator(check)


def choices(options: object) -> str:
    """List the values of a Literal type (or a union of one with None) as a message does: 'a', 'b', None."""
    values: list[object] = []
    for arg in get_args(options):
        if arg is type(None):
            values.append(None)
        else:
            values.extend(get_args(arg) or [arg])
    return ", ".join(map(repr, values))


def one_of(options: object) -> WrapValidator:
    """The hint of a field that takes one value of a Literal type."""
    return hint(f"must be one of {choices(options)}", show_value=True)


def _finite(value: int | float) -> int | float:
    try:
        if math.isfinite(float(value)):
            return value
    except OverflowError:
        pass
    raise ValueError("not a finite number")


NonEmptyStr = Annotated[str, StringConstraints(strict=True, min_length=1)]
Text = Annotated[NonEmptyStr, hint("must be a non-empty string")]
OptionalText = Annotated[NonEmptyStr | None, hint("must be a non-empty string")]
ColumnList = Annotated[list[NonEmptyStr], Field(min_length=1)]
Columns = Annotated[ColumnList, hint("must be a non-empty list of column names")]
OptionalColumns = Annotated[ColumnList | None, hint("must be a non-empty list of column names")]
Number = Annotated[StrictInt | StrictFloat, WrapValidator(lambda v, h: _finite(h(v)))]
OptionalNumber = Annotated[Number | None, hint("must be a number", show_value=True)]
Flag = Annotated[StrictBool, hint("must be true or false", show_value=True)]
# A value a cell can take: text, a number, true/false or null.
Scalar = StrictBool | StrictInt | StrictFloat | str | None
Value = Annotated[Scalar, hint("must be a single value (text, number, true/false or null)", show_value=True)]
OnErrorPolicy = Literal["fail", "null"]
OnError = Annotated[OnErrorPolicy, one_of(OnErrorPolicy)]

F = TypeVar("F", bound=Callable[..., Any])


def _runtime_untyped(func: F) -> F:
    # Pydantic would document a serializer's return annotation (a plain dict) as the step's schema; without it,
    # the schema is the step's fields, which is what the stored form is.
    func.__annotations__.pop("return", None)
    return func


def _with_example(schema: dict[str, Any], cls: type) -> None:
    example = getattr(cls, "example", None)
    if example:
        schema["examples"] = [example]


class StepBase(BaseModel):
    """One recipe step: the fields of its op, how it reads, and what it does to a frame.

    Keys a step was not given stay absent when it is dumped, so a stored step reads back exactly as it was
    written; unknown keys are kept, as recipes always allowed.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra=_with_example)
    op: str
    disabled: Flag = Field(False, description="A disabled step is kept in the recipe but skipped.")
    example: ClassVar[dict[str, Any]] = {}  # a typical step of the op, shown in the API docs

    @model_serializer(mode="wrap")
    @_runtime_untyped
    def _stored_form(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        given = self.model_fields_set | {"op"}
        return {key: value for key, value in data.items() if key in given}

    def stored(self) -> dict[str, Any]:
        """The JSON object this step is stored as (the keys it was given, nothing more)."""
        return self.model_dump(mode="json")

    def given(self, name: str) -> bool:
        """Whether the step was given key `name` (even as null)."""
        return name in self.model_fields_set

    def describe(self) -> str:
        """A short readable summary for lists and reports."""
        return self.op

    @abstractmethod
    def apply(self, ctx: Context) -> Outcome:
        """Apply the step to `ctx.frame`; raise StepError naming the step, column and rows on failure."""


def column_text(columns: list[str] | None, default: str = "all text columns") -> str:
    """Columns as a description names them."""
    return ", ".join(columns or []) or default


class Context:
    """A step applied to a frame that carries each row's 1-based input row number in ROW_ID."""

    def __init__(self, index: int, op: str, frame: pl.DataFrame) -> None:
        self.where = where(index, op)
        self.frame = frame

    def error(self, message: str) -> StepError:
        return StepError(f"{self.where}: {message}")

    def data_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != ROW_ID]

    def column(self, name: str) -> str:
        if name == ROW_ID or name not in self.frame.columns:
            raise self.error(f"column {name!r} does not exist; the columns are "
                             f"{', '.join(map(repr, self.data_columns()))}.")
        return name

    def columns(self, names: list[str] | None, *, default_text: bool = False) -> list[str]:
        if names is None:
            if default_text:
                return [n for n, t in self.frame.schema.items() if t == pl.String and n != ROW_ID]
            return self.data_columns()
        return [self.column(n) for n in names]

    def fail_rows(self, column: str, mask: pl.Series, problem: str) -> StepError:
        bad = self.frame.filter(mask)
        rows = bad.get_column(ROW_ID).head(SHOWN_ROWS).to_list()
        values = bad.get_column(column).head(SHOWN_ROWS).to_list()
        shown = ", ".join(f"row {r} ({v!r})" for r, v in zip(rows, values, strict=True))
        more = f" and {bad.height - len(rows)} more" if bad.height > len(rows) else ""
        return StepError(f"{self.where} failed on column {column!r}: {bad.height} value(s) {problem}: {shown}{more}. "
                         "Fix the data, or set \"on_error\": \"null\" to null and flag them.")

    def row_list(self, mask: pl.Series) -> str:
        rows = self.frame.filter(mask).get_column(ROW_ID).head(SHOWN_ROWS).to_list()
        return ", ".join(map(str, rows))
