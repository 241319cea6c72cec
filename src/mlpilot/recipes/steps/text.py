"""Steps over text columns: normalize_text (Unicode form, whitespace, case), and finding or masking personal data
(Korean resident registration numbers, phone numbers, e-mail addresses, card and account numbers).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import polars as pl
from pydantic import field_validator

from mlpilot.recipes import pii
from mlpilot.recipes.steps.base import (
    Context,
    Flag,
    OptionalColumns,
    Outcome,
    StepBase,
    column_text,
    hint,
    one_of,
    rule_error,
)

UnicodeForm = Literal["NFC", "NFKC", "NFD", "NFKD"] | None
Case = Literal["lower", "upper"] | None
Kinds = Annotated[list[str] | None, hint(f"must be a list out of {', '.join(pii.KINDS)}")]


class NormalizeTextStep(StepBase):
    """Normalise text columns (all text columns by default); empty strings can become null."""

    op: Literal["normalize_text"]
    columns: OptionalColumns = None
    unicode: Annotated[UnicodeForm, one_of(UnicodeForm)] = "NFC"
    case: Annotated[Case, one_of(Case)] = None
    trim: Flag = True
    collapse_whitespace: Flag = True
    empty_to_null: Flag = False
    example: ClassVar[dict[str, Any]] = {"op": "normalize_text", "columns": ["name"], "unicode": "NFKC",
                                         "case": "lower", "trim": True, "collapse_whitespace": True,
                                         "empty_to_null": False}

    def describe(self) -> str:
        parts = [p for p in ("trim" if self.trim else "", self.unicode or "", self.case or "") if p]
        return f"normalise text of {column_text(self.columns)}: {', '.join(parts) or 'no change'}"

    def apply(self, ctx: Context) -> Outcome:
        columns = ctx.columns(self.columns, default_text=True)
        changed = 0
        frame = ctx.frame
        for column in columns:
            old = frame.get_column(column)
            if old.dtype != pl.String:
                raise ctx.error(f"column {column!r} is {old.dtype}, not text.")
            expr = pl.col(column)
            if self.unicode:
                expr = expr.str.normalize(self.unicode)
            if self.collapse_whitespace:
                expr = expr.str.replace_all(r"\s+", " ")
            if self.trim:
                expr = expr.str.strip_chars()
            if self.case == "lower":
                expr = expr.str.to_lowercase()
            elif self.case == "upper":
                expr = expr.str.to_uppercase()
            if self.empty_to_null:
                expr = pl.when(expr == "").then(None).otherwise(expr)
            new = frame.select(expr).to_series()
            changed += int((old.ne_missing(new)).sum())
            frame = frame.with_columns(new.alias(column))
        return Outcome(frame, flagged=changed, details={"changed_values": changed})


class _PiiStep(StepBase):
    columns: OptionalColumns = None
    kinds: Kinds = None

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, kinds: list[str] | None) -> list[str] | None:
        try:
            pii.check_kinds(kinds)
        except ValueError as exc:
            raise rule_error(f"{exc}.") from None
        return kinds


class MaskPiiStep(_PiiStep):
    """Mask personal data found in text columns (all text columns by default), keeping a readable shape."""

    op: Literal["mask_pii"]
    example: ClassVar[dict[str, Any]] = {"op": "mask_pii", "columns": ["memo"], "kinds": ["rrn", "phone"]}

    def describe(self) -> str:
        return f"mask personal data in {column_text(self.columns)}"

    def apply(self, ctx: Context) -> Outcome:
        frame = ctx.frame
        counts: dict[str, dict[str, int]] = {}
        masked_values = 0
        for column in ctx.columns(self.columns, default_text=True):
            masked, found = pii.mask_column(frame.get_column(column), self.kinds)
            if found:
                before = frame.get_column(column).cast(pl.String)
                masked_values += int(before.ne_missing(masked).sum())
                frame = frame.with_columns(masked.alias(column))
                counts[column] = found
        return Outcome(frame, flagged=masked_values, details={"pii": counts})


class DetectPiiStep(_PiiStep):
    """Count personal data in text columns (all text columns by default) without changing them."""

    op: Literal["detect_pii"]
    example: ClassVar[dict[str, Any]] = {"op": "detect_pii", "kinds": ["email"]}

    def describe(self) -> str:
        return f"detect personal data in {column_text(self.columns)}"

    def apply(self, ctx: Context) -> Outcome:
        columns = ctx.columns(self.columns, default_text=True)
        counts = pii.detect_pii(ctx.frame, columns=columns, kinds=self.kinds)
        return Outcome(ctx.frame, flagged=sum(sum(c.values()) for c in counts.values()), details={"pii": counts})
