"""Steps that choose and name columns: select (keep, in order), drop, and rename."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from mlpilot.recipes.steps.base import (
    ROW_ID,
    Columns,
    Context,
    NonEmptyStr,
    Outcome,
    StepBase,
    column_text,
    hint,
    rule_error,
)

Renames = Annotated[dict[NonEmptyStr, NonEmptyStr], Field(min_length=1),
                    hint("must be an object of old name → new name")]


class SelectStep(StepBase):
    """Keep only these columns, in this order."""

    op: Literal["select"]
    columns: Columns
    example: ClassVar[dict[str, Any]] = {"op": "select", "columns": ["id", "name", "age"]}

    def describe(self) -> str:
        return f"keep columns {column_text(self.columns)}"

    def apply(self, ctx: Context) -> Outcome:
        columns = ctx.columns(self.columns)
        if len(set(columns)) != len(columns):
            raise ctx.error("a column is listed twice.")
        return Outcome(ctx.frame.select([ROW_ID, *columns]))


class DropStep(StepBase):
    """Remove these columns."""

    op: Literal["drop"]
    columns: Columns
    example: ClassVar[dict[str, Any]] = {"op": "drop", "columns": ["memo"]}

    def describe(self) -> str:
        return f"drop columns {column_text(self.columns)}"

    def apply(self, ctx: Context) -> Outcome:
        return Outcome(ctx.frame.drop(ctx.columns(self.columns)))


class RenameStep(StepBase):
    """Rename columns (old name → new name); the new names must not exist already."""

    op: Literal["rename"]
    mapping: Renames
    example: ClassVar[dict[str, Any]] = {"op": "rename", "mapping": {"spend": "amount", "age": "age_years"}}

    @field_validator("mapping")
    @classmethod
    def _distinct_new_names(cls, mapping: dict[str, str]) -> dict[str, str]:
        if len(set(mapping.values())) != len(mapping):
            raise rule_error("two columns would get the same new name.")
        return mapping

    def describe(self) -> str:
        return "rename " + ", ".join(f"{a} → {b}" for a, b in self.mapping.items())

    def apply(self, ctx: Context) -> Outcome:
        mapping = {ctx.column(old): new for old, new in self.mapping.items()}
        kept = set(ctx.frame.columns) - set(mapping)
        clash = [new for new in mapping.values() if new in kept or new == ROW_ID]
        if clash:
            raise ctx.error(f"the new name(s) {', '.join(map(repr, clash))} already exist.")
        return Outcome(ctx.frame.rename(mapping))
