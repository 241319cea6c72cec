"""The recipe step builder's forms, generated from the typed step schema.

Each step kind's pydantic model gives its fields' JSON schema (type, enum values, default, description); this module
turns it into one widget per field — a column picker, several columns, a choice, a number, a switch, a text or
expression box, a list or a mapping — that the page renders without the user writing JSON. Labels of step kinds
and fields, and the schema's descriptions, are marked here for translation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mlpilot.recipes import pii
from mlpilot.recipes.steps import STEP_TYPES, StepBase


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, do not translate yet"
    return message


Widget = Literal["column", "new_column", "columns", "choice", "number", "switch", "text", "expression", "lines",
                 "kinds", "mapping", "value"]

# Step kinds: label and a one-line explanation.
OP_LABELS: dict[str, tuple[str, str]] = {
    "cast": (N_("Change type"), N_("Convert a column to another type.")),
    "parse_date": (N_("Read dates"), N_("Read a text column as dates in the given formats.")),
    "normalize_text": (N_("Tidy text"), N_("Unicode form, spaces and case of text columns.")),
    "impute": (N_("Fill missing values"), N_("Fill blanks with the mean, median, most common value or a constant.")),
    "duplicates": (N_("Duplicate rows"), N_("Drop or flag rows that repeat an earlier row.")),
    "outliers": (N_("Outliers"), N_("Clip, null, flag or drop values outside bounds.")),
    "filter": (N_("Keep rows where"), N_("Keep the rows where an expression is true.")),
    "select": (N_("Keep columns"), N_("Keep only these columns, in this order.")),
    "drop": (N_("Remove columns"), N_("Remove these columns.")),
    "rename": (N_("Rename columns"), N_("Give columns new names.")),
    "derive": (N_("New column from a formula"), N_("Add or replace a column computed by an expression.")),
    "map_values": (N_("Replace values"), N_("Replace values of a column by a mapping.")),
    "mask_pii": (N_("Mask personal data"), N_("Mask resident numbers, phones, e-mails, cards and accounts.")),
    "detect_pii": (N_("Find personal data"), N_("Count personal data without changing it.")),
}
FIELD_LABELS: dict[str, str] = {
    "column": N_("Column"), "columns": N_("Columns"), "subset": N_("Compare on columns"), "to": N_("New type"),
    "on_error": N_("When a value does not convert"), "flag_column": N_("Flag column"), "formats": N_("Formats"),
    "unicode": N_("Unicode form"), "case": N_("Case"), "trim": N_("Trim spaces"),
    "collapse_whitespace": N_("Collapse spaces"), "empty_to_null": N_("Empty text becomes missing"),
    "strategy": N_("Fill with"), "value": N_("Value"), "action": N_("Action"), "method": N_("Method"),
    "k": N_("IQR multiplier"), "threshold": N_("Z-score threshold"), "lower": N_("Lower bound"),
    "upper": N_("Upper bound"), "expr": N_("Expression"), "mapping": N_("Mapping"),
    "unmapped": N_("Values not in the mapping"), "default": N_("Default value"), "kinds": N_("Kinds"),
    "disabled": N_("Disabled"),
}
# Enum values shown in choices.
CHOICE_LABELS: dict[str, str] = {
    "int": N_("integer"), "float": N_("decimal number"), "string": N_("text"), "bool": N_("true/false"),
    "date": N_("date"), "datetime": N_("date and time"), "fail": N_("fail the step"),
    "null": N_("make it missing"), "lower": N_("lower case"), "upper": N_("upper case"), "mean": N_("mean"),
    "median": N_("median"), "mode": N_("most common value"), "constant": N_("a constant"), "drop": N_("drop"),
    "flag": N_("flag in a column"), "iqr": N_("interquartile range"), "zscore": N_("z-score"),
    "bounds": N_("given bounds"), "clip": N_("clip to the bounds"), "keep": N_("keep them"),
    "default": N_("set a default"), "rrn": N_("resident registration numbers"), "phone": N_("phone numbers"),
    "email": N_("e-mail addresses"), "card": N_("card numbers"), "account": N_("account numbers"),
}
# The descriptions the step models give their fields, shown as hints (translated at run time).
FIELD_HINTS = (
    N_("A disabled step is kept in the recipe but skipped."),
    N_("With on_error null (default: <column>_cast_failed)."),
    N_("With on_error null (default: <column>_date_failed)."),
    N_("The value of strategy 'constant'."),
    N_("With action flag (default: is_duplicate)."),
    N_("With action flag (default: <column>_outlier)."),
    N_("IQR multiplier of method iqr (default 1.5)."),
    N_("Standard deviations of method zscore (default 3)."),
    N_("The value of unmapped 'default'."),
)
# Hints of widgets whose input is read in a particular way.
WIDGET_HINTS = (
    N_("One per line."),
    N_("One per line: old = new. Values are read as JSON when they can be (12, true, null, \"12\"), else as text."),
    N_("Read as JSON when it can be (12, true, null, \"12\"), else as text."),
    N_("Empty: all text columns."),
    N_("Empty: all columns."),
)
NEW_COLUMN_FIELDS = {("derive", "column")}


@dataclass(frozen=True)
class FieldForm:
    """One input of a step's form."""

    name: str
    label: str
    widget: Widget
    required: bool
    default: Any = None
    choices: list[str] = field(default_factory=list)
    optional_choice: bool = False
    hint: str = ""


@dataclass(frozen=True)
class StepForm:
    """The form of one step kind."""

    op: str
    label: str
    description: str
    fields: list[FieldForm]


def _options(prop: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The non-null branch of an optional field's schema, and whether null is allowed."""
    branches = prop.get("anyOf")
    if not branches:
        return prop, False
    kept = [b for b in branches if b.get("type") != "null"]
    nullable = len(kept) < len(branches)
    if len(kept) == 1:
        return kept[0], nullable
    return {"anyOf": kept}, nullable


def _widget(op: str, name: str, schema: dict[str, Any]) -> tuple[Widget, list[str], str]:
    kind = schema.get("type")
    if "enum" in schema:
        return "choice", [str(v) for v in schema["enum"]], ""
    branches = {b.get("type") for b in schema.get("anyOf", [])}
    if branches and branches <= {"integer", "number"}:
        return "number", [], ""
    if "anyOf" in schema:  # a cell value: text, number, true/false or null
        return "value", [], WIDGET_HINTS[2]
    if kind == "boolean":
        return "switch", [], ""
    if kind in ("integer", "number"):
        return "number", [], ""
    if kind == "object":
        return "mapping", [], WIDGET_HINTS[1]
    if kind == "array":
        if name in ("columns", "subset"):
            return "columns", [], ""
        if name == "kinds":
            return "kinds", list(pii.KINDS), ""
        return "lines", [], WIDGET_HINTS[0]
    if name == "expr":
        return "expression", [], ""
    if (op, name) in NEW_COLUMN_FIELDS or name == "flag_column":
        return "new_column", [], ""
    if name == "column":
        return "column", [], ""
    return "text", [], ""


def step_form(model: type[StepBase]) -> StepForm:
    """The form of a step kind, from its model's JSON schema (fields in declaration order, `disabled` left out:
    the builder has its own switch for it)."""
    schema = model.model_json_schema()
    op = schema["properties"]["op"]["const"]
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema["properties"].items():
        if name in ("op", "disabled"):
            continue
        inner, nullable = _options(prop)
        widget, choices, widget_hint = _widget(op, name, inner)
        hint = prop.get("description") or widget_hint
        if widget == "columns" and nullable and not hint:
            hint = WIDGET_HINTS[3] if op in ("normalize_text", "mask_pii", "detect_pii") else WIDGET_HINTS[4]
        fields.append(FieldForm(name=name, label=FIELD_LABELS.get(name, name), widget=widget,
                                required=name in required, default=prop.get("default"), choices=choices,
                                optional_choice=widget == "choice" and nullable, hint=hint))
    label, description = OP_LABELS.get(op, (op, schema.get("description", "")))
    return StepForm(op=op, label=label, description=description, fields=fields)


def step_forms() -> list[StepForm]:
    """The forms of every step kind, in the order of the step union."""
    return [step_form(model) for model in STEP_TYPES]


def builder_schema(translate: Callable[[str], str]) -> list[dict[str, object]]:
    """The step forms as the builder's script reads them, with labels and hints in the page's language."""
    result: list[dict[str, object]] = []
    for form in step_forms():
        data = asdict(form)
        data["label"], data["description"] = translate(form.label), translate(form.description)
        for item in data["fields"]:
            item["label"] = translate(item["label"])
            item["hint"] = translate(item["hint"]) if item["hint"] else ""
            item["choice_labels"] = {c: translate(CHOICE_LABELS.get(c, c)) for c in item["choices"]}
        result.append(data)
    return result
