"""Data-quality rules over a profile: each column's inferred type and the warnings a data scientist acts on.

Pure functions of the profile dict built by `profiling.profile_frame` — no data access, so the rules are
cheap to test and the same for exact, streaming and sampled profiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlpilot.core.errors import N_

ID_MIN_ROWS = 20
ID_UNIQUE_SHARE = 0.98
CATEGORICAL_MAX_LEVELS = 50
CATEGORICAL_INT_MAX_LEVELS = 10
HIGH_CARDINALITY = 100
MANY_MISSING_PCT = 50.0
DATE_SHARE = 0.9
NUMERIC_TEXT_SHARE = 1.0
MIXED_NUMERIC_SHARE = 0.5
LEAKAGE = 0.95
IMBALANCE_RATIO = 0.1
MIN_ROWS_PER_CLASS = 10
MIN_ROWS = 100

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def infer_type(column: dict[str, Any], rows: int) -> str:
    """Return a column's semantic type.

    One of constant, boolean, datetime, numeric, categorical, id, date_text, numeric_text, mixed, text, other.
    """
    present = rows - column["missing"]
    distinct = column["distinct"]
    kind = column["kind"]
    if present <= 0 or distinct <= 1:
        return "constant"
    unique = present >= ID_MIN_ROWS and distinct >= ID_UNIQUE_SHARE * present
    if kind == "boolean":
        return "boolean"
    if kind == "datetime":
        return "datetime"
    if kind == "numeric":
        if column["dtype"].startswith(("Int", "UInt")):
            if distinct == 2:
                return "boolean"
            if unique:
                return "id"
            if distinct <= CATEGORICAL_INT_MAX_LEVELS:
                return "categorical"
        return "numeric"
    if kind == "categorical":
        if column.get("date_share", 0) >= DATE_SHARE:
            return "date_text"
        if column.get("numeric_share", 0) >= NUMERIC_TEXT_SHARE:
            return "numeric_text"
        if column.get("numeric_share", 0) >= MIXED_NUMERIC_SHARE:
            return "mixed"
        if unique:
            return "id"
        if distinct <= CATEGORICAL_MAX_LEVELS or distinct <= 0.05 * present:
            return "categorical"
        return "text"
    return "other"


def _warning(code: str, severity: str, text: str, values: Mapping[str, object] | None = None,
             column: str | None = None, **details: Any) -> dict[str, Any]:
    # `text` is a catalog message (marked with N_) so pages show the warning in their language; `message` is English.
    values = dict(values or {})
    return {"code": code, "severity": severity, "column": column, "message": text % values, "text": text,
            "values": values, "details": details}


def quality_warnings(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the profile's data-quality warnings, most severe first."""
    out: list[dict[str, Any]] = []
    rows = profile["rows"]
    target = (profile.get("target") or {}).get("name")
    if rows == 0:
        out.append(_warning("empty", "error", N_("The table has no rows.")))
    duplicates = profile.get("duplicate_rows") or 0
    if duplicates:
        out.append(_warning("duplicate_rows", "warning",
                            N_("%(count)s rows (%(pct).2f %%) repeat an earlier row exactly."),
                            {"count": f"{duplicates:,}", "pct": 100 * duplicates / rows}, count=duplicates))
    for c in profile["column_profiles"]:
        out += _column_warnings(c, is_target=c["name"] == target)
    if target is not None:
        out += _target_warnings(profile)
    out.sort(key=lambda w: SEVERITY_ORDER[w["severity"]])
    return out


def _column_warnings(c: dict[str, Any], *, is_target: bool) -> list[dict[str, Any]]:
    name, kind = c["name"], c["inferred_type"]
    column = {"column": repr(name)}
    out = []
    if kind == "constant":
        text = (N_("Column %(column)s is constant (every value is missing); it carries no information.")
                if c["distinct"] == 0 else
                N_("Column %(column)s is constant (it has a single value); it carries no information."))
        out.append(_warning("constant", "warning", text, column, name))
    elif kind == "id" and not is_target:
        out.append(_warning("id_like", "warning", N_("Column %(column)s looks like an identifier (almost every value "
                            "is unique); leave it out of the features."), column, name, distinct=c["distinct"]))
    elif kind == "text" and c["distinct"] > HIGH_CARDINALITY:
        out.append(_warning("high_cardinality", "info", N_("Column %(column)s has %(distinct)s distinct values; "
                            "group rare values or encode it as text."), {**column, "distinct": f"{c['distinct']:,}"},
                            name, distinct=c["distinct"]))
    if kind == "mixed":
        examples = ", ".join(repr(v) for v in c.get("non_numeric_examples") or [])
        share = 100 * c.get("numeric_share", 0)
        out.append(_warning("mixed_types", "warning", N_("Column %(column)s mixes numbers (%(share).1f %% of values) "
                            "with text such as %(examples)s; clean it and cast it to a number."),
                            {**column, "share": share, "examples": examples or "…"}, name,
                            numeric_share=c.get("numeric_share"), examples=c.get("non_numeric_examples")))
    elif kind == "numeric_text":
        out.append(_warning("numbers_as_text", "warning",
                            N_("Column %(column)s holds numbers stored as text; cast it to a number."), column, name))
    elif kind == "date_text":
        out.append(_warning("dates_as_text", "info",
                            N_("Column %(column)s holds dates stored as text; parse it as a date to use it."), column,
                            name, date_share=c.get("date_share")))
    if c["missing_pct"] >= MANY_MISSING_PCT and kind != "constant":
        out.append(_warning("many_missing", "warning", N_("Column %(column)s is %(pct).1f %% missing."),
                            {**column, "pct": c["missing_pct"]}, name, missing_pct=c["missing_pct"]))
    return out


def _target_warnings(profile: dict[str, Any]) -> list[dict[str, Any]]:
    target = profile["target"]
    name = target["name"]
    named = {"target": repr(name)}
    out = []
    if target.get("missing"):
        out.append(_warning("target_missing", "warning", N_("The target %(target)s is missing in %(count)s rows; those "
                            "rows cannot be used for training."), {**named, "count": f"{target['missing']:,}"}, name,
                            count=target["missing"]))
    if profile["rows"] < MIN_ROWS:
        out.append(_warning("too_few_rows", "warning", N_("Only %(rows)s rows for a %(task)s task; collect at least "
                            "%(minimum)d."), {"rows": f"{profile['rows']:,}", "task": target["task"],
                                              "minimum": MIN_ROWS}, name, rows=profile["rows"]))
    for a in profile.get("target_association") or []:
        if abs(a["value"]) >= LEAKAGE:
            out.append(_warning("target_leakage", "error", N_("Column %(column)s predicts the target %(target)s almost "
                                "perfectly (%(measure)s %(value).3f); check that it is known before the outcome, or "
                                "drop it."), {**named, "column": repr(a["column"]), "measure": a["measure"],
                                               "value": a["value"]}, a["column"], measure=a["measure"],
                                value=a["value"]))
    classes = target.get("classes")
    if target["task"] == "classification" and classes:
        if len(classes) < 2:
            out.append(_warning("single_class", "error", N_("The target %(target)s has a single class; a classifier "
                                "needs at least two."), named, name))
            return out
        largest, smallest = classes[0], classes[-1]
        if smallest["count"] < IMBALANCE_RATIO * largest["count"]:
            out.append(_warning("class_imbalance", "warning", N_("The target %(target)s is imbalanced: class "
                                "%(small)s has %(small_count)s rows against %(large_count)s for %(large)s."),
                                {**named, "small": repr(smallest["value"]), "small_count": f"{smallest['count']:,}",
                                 "large_count": f"{largest['count']:,}", "large": repr(largest["value"])}, name,
                                ratio=round(smallest["count"] / largest["count"], 4)))
        few = [c for c in classes if c["count"] < MIN_ROWS_PER_CLASS]
        if few:
            listed = ", ".join(f"{c['value']!r} ({c['count']})" for c in few[:10])
            out.append(_warning("too_few_rows_per_class", "warning", N_("%(count)d class(es) of the target %(target)s "
                                "have fewer than %(minimum)d rows: %(listed)s; cross-validation needs more rows per "
                                "class."), {**named, "count": len(few), "minimum": MIN_ROWS_PER_CLASS,
                                            "listed": listed}, name, classes=[c["value"] for c in few]))
    return out
