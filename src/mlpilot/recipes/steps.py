"""Recipe steps: validation of the declarative step list and its pure application to a Polars frame.

Each step is a JSON object with an "op" and its options. `apply_steps` runs them in order, counting rows in
and out per step; a step that fails on some rows raises StepError naming the step, the column and the first
failing data rows (1-based rows of the input), unless its policy is to null and flag them instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.recipes import expressions, pii

ROW_ID = "__mlpilot_row__"
SHOWN_ROWS = 5
MAX_STEPS = 200

CAST_TYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(), "float": pl.Float64(), "string": pl.String(), "bool": pl.Boolean(), "date": pl.Date(),
    "datetime": pl.Datetime("us"),
}
TRUE_WORDS = ("true", "t", "yes", "y", "1", "예", "네", "참")
FALSE_WORDS = ("false", "f", "no", "n", "0", "아니오", "아니요", "거짓")
ON_ERROR = ("fail", "null")


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Outcome:
    frame: pl.DataFrame
    flagged: int = 0
    errors: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


# Validation ----------------------------------------------------------------------------------------------

def _where(index: int, op: str) -> str:
    return f"Step {index} ({op})"


def _req_str(step: dict[str, Any], key: str, where: str) -> str:
    value = step.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{where}: '{key}' must be a non-empty string.")
    return value


def _opt_columns(step: dict[str, Any], key: str, where: str, *, required: bool = False) -> None:
    value = step.get(key)
    if value is None and not required:
        return
    if not isinstance(value, list) or not value or not all(isinstance(c, str) and c for c in value):
        raise InvalidInput(f"{where}: '{key}' must be a non-empty list of column names.")


def _choice(step: dict[str, Any], key: str, options: tuple[str | None, ...], default: str | None, where: str) -> None:
    value = step.get(key, default)
    if value not in options:
        raise InvalidInput(f"{where}: '{key}' must be one of {', '.join(map(repr, options))}; got {value!r}.")


def _number(step: dict[str, Any], key: str, where: str, *, required: bool = False) -> None:
    value = step.get(key)
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{where}: '{key}' must be a number; got {value!r}.")


def _validate_cast(step: dict[str, Any], where: str) -> None:
    _req_str(step, "column", where)
    _choice(step, "to", tuple(CAST_TYPES), None, where)
    _choice(step, "on_error", ON_ERROR, "fail", where)


def _validate_parse_date(step: dict[str, Any], where: str) -> None:
    _req_str(step, "column", where)
    formats = step.get("formats")
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and "%" in f for f in formats):
        raise InvalidInput(f"{where}: 'formats' must be a list of strftime formats such as \"%Y-%m-%d\".")
    _choice(step, "to", ("date", "datetime"), "date", where)
    _choice(step, "on_error", ON_ERROR, "fail", where)


def _validate_normalize_text(step: dict[str, Any], where: str) -> None:
    _opt_columns(step, "columns", where)
    _choice(step, "unicode", ("NFC", "NFKC", "NFD", "NFKD", None), "NFC", where)
    _choice(step, "case", ("lower", "upper", None), None, where)


def _validate_impute(step: dict[str, Any], where: str) -> None:
    _opt_columns(step, "columns", where, required=True)
    _choice(step, "strategy", ("mean", "median", "mode", "constant"), None, where)
    if step["strategy"] == "constant" and "value" not in step:
        raise InvalidInput(f"{where}: strategy 'constant' needs a 'value'.")


def _validate_duplicates(step: dict[str, Any], where: str) -> None:
    _opt_columns(step, "subset", where)
    _choice(step, "action", ("drop", "flag"), "drop", where)


def _validate_outliers(step: dict[str, Any], where: str) -> None:
    _opt_columns(step, "columns", where, required=True)
    _choice(step, "method", ("iqr", "zscore", "bounds"), "iqr", where)
    _choice(step, "action", ("clip", "flag", "drop", "null"), "clip", where)
    for key in ("k", "threshold", "lower", "upper"):
        _number(step, key, where)
    if step.get("method", "iqr") == "bounds" and step.get("lower") is None and step.get("upper") is None:
        raise InvalidInput(f"{where}: method 'bounds' needs 'lower' and/or 'upper'.")


def _validate_filter(step: dict[str, Any], where: str) -> None:
    _parse_expr(step, where)


def _validate_derive(step: dict[str, Any], where: str) -> None:
    _req_str(step, "column", where)
    _parse_expr(step, where)


def _parse_expr(step: dict[str, Any], where: str) -> expressions.Node:
    source = _req_str(step, "expr", where)
    try:
        return expressions.parse(source)
    except expressions.ExpressionError as exc:
        raise StepError(f"{where}: {exc.detail}") from None


def _validate_select(step: dict[str, Any], where: str) -> None:
    _opt_columns(step, "columns", where, required=True)


def _validate_rename(step: dict[str, Any], where: str) -> None:
    mapping = step.get("mapping")
    if (not isinstance(mapping, dict) or not mapping
            or not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in mapping.items())):
        raise InvalidInput(f"{where}: 'mapping' must be an object of old name → new name.")
    if len(set(mapping.values())) != len(mapping):
        raise InvalidInput(f"{where}: two columns would get the same new name.")


def _validate_map_values(step: dict[str, Any], where: str) -> None:
    _req_str(step, "column", where)
    if not isinstance(step.get("mapping"), dict) or not step["mapping"]:
        raise InvalidInput(f"{where}: 'mapping' must be an object of value → replacement.")
    _choice(step, "unmapped", ("keep", "null", "default"), "keep", where)
    if step.get("unmapped") == "default" and "default" not in step:
        raise InvalidInput(f"{where}: unmapped 'default' needs a 'default' value.")


def _validate_pii(step: dict[str, Any], where: str) -> None:
    _opt_columns(step, "columns", where)
    kinds = step.get("kinds")
    if kinds is not None:
        if not isinstance(kinds, list):
            raise InvalidInput(f"{where}: 'kinds' must be a list out of {', '.join(pii.KINDS)}.")
        try:
            pii.check_kinds(kinds)
        except ValueError as exc:
            raise InvalidInput(f"{where}: {exc}.") from None


VALIDATORS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "cast": _validate_cast, "parse_date": _validate_parse_date, "normalize_text": _validate_normalize_text,
    "impute": _validate_impute, "duplicates": _validate_duplicates, "outliers": _validate_outliers,
    "filter": _validate_filter, "select": _validate_select, "drop": _validate_select, "rename": _validate_rename,
    "derive": _validate_derive, "map_values": _validate_map_values, "mask_pii": _validate_pii,
    "detect_pii": _validate_pii,
}
OPS = tuple(VALIDATORS)


def validate_steps(steps: Any) -> list[dict[str, Any]]:
    """Check the shape of a step list (without data) and return it; raise InvalidInput naming the bad step."""
    if not isinstance(steps, list):
        raise InvalidInput("A recipe's steps must be a JSON list of step objects.")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"A recipe has at most {MAX_STEPS} steps; got {len(steps)}.")
    for index, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            raise InvalidInput(f"Step {index} must be an object with an 'op'; got {type(step).__name__}.")
        op = step.get("op")
        if op not in VALIDATORS:
            raise InvalidInput(f"Step {index}: unknown op {op!r}; use one of {', '.join(OPS)}.")
        VALIDATORS[op](step, _where(index, op))
    return steps


def describe_step(step: dict[str, Any]) -> str:
    """Return a short readable summary of a step for lists and reports."""
    op = step.get("op")
    cols = ", ".join(step.get("columns") or step.get("subset") or []) or "all text columns"
    match op:
        case "cast":
            return f"cast {step['column']} to {step['to']} (on error: {step.get('on_error', 'fail')})"
        case "parse_date":
            return f"parse {step['column']} as {step.get('to', 'date')} ({' | '.join(step['formats'])})"
        case "normalize_text":
            parts = [p for p in ("trim" if step.get("trim", True) else "", step.get("unicode", "NFC") or "",
                                 step.get("case") or "") if p]
            return f"normalise text of {cols}: {', '.join(parts) or 'no change'}"
        case "impute":
            return f"impute {cols} with {step['strategy']}"
        case "duplicates":
            return f"{step.get('action', 'drop')} duplicate rows" + (f" by {cols}" if step.get("subset") else "")
        case "outliers":
            return f"{step.get('action', 'clip')} outliers of {cols} ({step.get('method', 'iqr')})"
        case "filter":
            return f"keep rows where {step['expr']}"
        case "select":
            return f"keep columns {cols}"
        case "drop":
            return f"drop columns {cols}"
        case "rename":
            return "rename " + ", ".join(f"{a} → {b}" for a, b in step["mapping"].items())
        case "derive":
            return f"{step['column']} = {step['expr']}"
        case "map_values":
            return f"map values of {step['column']} ({len(step['mapping'])} mappings)"
        case "mask_pii":
            return f"mask personal data in {cols}"
        case "detect_pii":
            return f"detect personal data in {cols}"
    return str(op)


# Application ---------------------------------------------------------------------------------------------

class _Ctx:
    def __init__(self, index: int, op: str, frame: pl.DataFrame) -> None:
        self.where = _where(index, op)
        self.frame = frame

    def data_columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != ROW_ID]

    def column(self, name: str) -> str:
        if name == ROW_ID or name not in self.frame.columns:
            raise StepError(f"{self.where}: column {name!r} does not exist; the columns are "
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


def _converted(ctx: _Ctx, column: str, new: pl.Series, step: dict[str, Any], problem: str,
               flag_suffix: str) -> _Outcome:
    """Apply a conversion whose nulls (where the input had a value) are failures, per the step's policy."""
    old = ctx.frame.get_column(column)
    failed = new.is_null() & old.is_not_null()
    count = int(failed.sum())
    if count and step.get("on_error", "fail") == "fail":
        raise ctx.fail_rows(column, failed, problem)
    frame = ctx.frame.with_columns(new.alias(column))
    errors = []
    if step.get("on_error") == "null":
        flag = step.get("flag_column") or f"{column}_{flag_suffix}"
        frame = frame.with_columns(failed.alias(flag))
        if count:
            errors.append(f"{count} value(s) of {column!r} {problem} were set to null and flagged in {flag!r} "
                          f"(rows {ctx.row_list(failed)}{'…' if count > SHOWN_ROWS else ''}).")
    return _Outcome(frame, flagged=count, errors=errors)


def _cast_series(series: pl.Series, to: str) -> pl.Series:
    target = CAST_TYPES[to]
    if series.dtype == pl.String:
        text = series.str.strip_chars()
        if to == "bool":
            lower = text.str.to_lowercase()
            return (pl.select(pl.when(lower.is_in(TRUE_WORDS)).then(True)
                              .when(lower.is_in(FALSE_WORDS)).then(False).otherwise(None)).to_series()
                    .alias(series.name))
        if to == "int":
            as_float = text.cast(pl.Float64, strict=False)
            whole = as_float.is_not_null() & (as_float == as_float.floor()) & (as_float.abs() < 2**63)
            return pl.select(pl.when(whole).then(as_float).otherwise(None).cast(pl.Int64)).to_series().alias(
                series.name)
        if to == "date":
            return text.str.to_date(strict=False)
        if to == "datetime":
            return text.str.to_datetime(strict=False, time_unit="us")
        return text.cast(target, strict=False)
    return series.cast(target, strict=False)


def _op_cast(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    column = ctx.column(step["column"])
    new = _cast_series(ctx.frame.get_column(column), step["to"])
    return _converted(ctx, column, new, step, f"cannot be read as {step['to']}", "cast_failed")


def _op_parse_date(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    column = ctx.column(step["column"])
    series = ctx.frame.get_column(column)
    if series.dtype != pl.String:
        raise StepError(f"{ctx.where}: column {column!r} is {series.dtype}, not text; parse_date reads text.")
    target = pl.Date() if step.get("to", "date") == "date" else pl.Datetime("us")
    text = series.str.strip_chars()
    parsed = pl.select(pl.coalesce([text.str.strptime(target, fmt, strict=False) for fmt in step["formats"]])
                       ).to_series().alias(column)
    formats = " or ".join(step["formats"])
    return _converted(ctx, column, parsed, step, f"match none of the formats {formats}", "date_failed")


def _op_normalize_text(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    columns = ctx.columns(step.get("columns"), default_text=True)
    changed = 0
    frame = ctx.frame
    for column in columns:
        old = frame.get_column(column)
        if old.dtype != pl.String:
            raise StepError(f"{ctx.where}: column {column!r} is {old.dtype}, not text.")
        expr = pl.col(column)
        if step.get("unicode", "NFC"):
            expr = expr.str.normalize(step.get("unicode", "NFC"))
        if step.get("collapse_whitespace", True):
            expr = expr.str.replace_all(r"\s+", " ")
        if step.get("trim", True):
            expr = expr.str.strip_chars()
        if step.get("case") == "lower":
            expr = expr.str.to_lowercase()
        elif step.get("case") == "upper":
            expr = expr.str.to_uppercase()
        if step.get("empty_to_null", False):
            expr = pl.when(expr == "").then(None).otherwise(expr)
        new = frame.select(expr).to_series()
        changed += int((old.ne_missing(new)).sum())
        frame = frame.with_columns(new.alias(column))
    return _Outcome(frame, flagged=changed, details={"changed_values": changed})


def _op_impute(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    frame = ctx.frame
    filled: dict[str, Any] = {}
    total = 0
    for column in ctx.columns(step["columns"]):
        series = frame.get_column(column)
        missing = int(series.null_count())
        strategy = step["strategy"]
        if strategy in ("mean", "median") and not series.dtype.is_numeric():
            raise StepError(f"{ctx.where}: column {column!r} is {series.dtype}; {strategy} needs numbers "
                            "(use 'mode' or 'constant').")
        if strategy == "mean":
            value: Any = series.mean()
        elif strategy == "median":
            value = series.median()
        elif strategy == "mode":
            modes = series.drop_nulls().mode().sort()
            value = modes[0] if len(modes) else None
        else:
            value = step["value"]
        if strategy in ("mean", "median") and value is not None and series.dtype.is_integer():
            value = round(value)  # an integer column stays integer
        if value is None and missing:
            raise StepError(f"{ctx.where}: column {column!r} has no values to compute the {strategy} from.")
        try:
            frame = frame.with_columns(pl.col(column).fill_null(pl.lit(value)))
        except pl.exceptions.PolarsError as exc:
            raise StepError(f"{ctx.where}: cannot fill column {column!r} ({series.dtype}) with {value!r}: {exc}") \
                from None
        filled[column] = {"value": value, "filled": missing}
        total += missing
    return _Outcome(frame, flagged=total, details={"filled": filled})


def _op_duplicates(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    subset = ctx.columns(step.get("subset"))
    duplicate = ctx.frame.select(~pl.struct(subset).is_first_distinct()).to_series()
    count = int(duplicate.sum())
    if step.get("action", "drop") == "drop":
        return _Outcome(ctx.frame.filter(~duplicate), flagged=count, details={"duplicates": count})
    flag = step.get("flag_column") or "is_duplicate"
    return _Outcome(ctx.frame.with_columns(duplicate.alias(flag)), flagged=count, details={"duplicates": count})


def _op_outliers(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    frame = ctx.frame
    method, action = step.get("method", "iqr"), step.get("action", "clip")
    bounds: dict[str, dict[str, Any]] = {}
    any_outlier = pl.Series([False] * frame.height)
    for column in ctx.columns(step["columns"]):
        series = frame.get_column(column)
        if not series.dtype.is_numeric():
            raise StepError(f"{ctx.where}: column {column!r} is {series.dtype}; outliers need a numeric column.")
        values = series.cast(pl.Float64)
        if method == "iqr":
            q1, q3 = values.quantile(0.25, "linear"), values.quantile(0.75, "linear")
            k = float(step.get("k", 1.5))
            low, high = (None, None) if q1 is None or q3 is None else (q1 - k * (q3 - q1), q3 + k * (q3 - q1))
        elif method == "zscore":
            # A Float64 column's mean and deviation are floats (or None when it has no values).
            mean, std = cast(float | None, values.mean()), cast(float | None, values.std())
            t = float(step.get("threshold", 3.0))
            low, high = (None, None) if mean is None or not std else (mean - t * std, mean + t * std)
        else:
            low, high = step.get("lower"), step.get("upper")
        outside = ((values < low) if low is not None else pl.Series([False] * frame.height)).fill_null(False)
        if high is not None:
            outside = outside | (values > high).fill_null(False)
        count = int(outside.sum())
        bounds[column] = {"lower": low, "upper": high, "outliers": count}
        any_outlier = any_outlier | outside
        if action == "clip" and count:
            if series.dtype.is_integer():
                # Integer columns stay integers: bounds move inwards to the nearest whole numbers.
                low = None if low is None else float(math.ceil(low))
                high = None if high is None else float(math.floor(high))
                clipped = values.clip(low, high).cast(series.dtype)
            else:
                clipped = values.clip(low, high)
            frame = frame.with_columns(clipped.alias(column))
        elif action == "null" and count:
            frame = frame.with_columns(pl.when(outside).then(None).otherwise(pl.col(column)).alias(column))
        elif action == "flag":
            frame = frame.with_columns(outside.alias(step.get("flag_column") or f"{column}_outlier"))
    flagged = int(any_outlier.sum())
    if action == "drop":
        frame = frame.filter(~any_outlier)
    return _Outcome(frame, flagged=flagged, details={"bounds": bounds})


def _compile(ctx: _Ctx, step: dict[str, Any]) -> pl.Expr:
    try:
        return expressions.compile_expression(step["expr"], columns=ctx.data_columns())
    except expressions.ExpressionError as exc:
        raise StepError(f"{ctx.where}: {exc.detail}") from None


def _op_filter(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    expr = _compile(ctx, step)
    try:
        keep = ctx.frame.select(expr.cast(pl.Boolean).fill_null(False)).to_series()
    except pl.exceptions.PolarsError as exc:
        raise StepError(f"{ctx.where}: the expression {step['expr']!r} cannot be evaluated on this data: "
                        f"{str(exc).splitlines()[0]}") from None
    if len(keep) == 1 and ctx.frame.height != 1:
        keep = pl.Series([bool(keep[0])] * ctx.frame.height)
    return _Outcome(ctx.frame.filter(keep), details={"removed": int((~keep).sum())})


def _op_derive(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    expr = _compile(ctx, step)
    if step["column"] == ROW_ID:
        raise StepError(f"{ctx.where}: the column name {ROW_ID!r} is reserved.")
    try:
        frame = ctx.frame.with_columns(expr.alias(step["column"]))
    except pl.exceptions.PolarsError as exc:
        raise StepError(f"{ctx.where}: the expression {step['expr']!r} cannot be evaluated on this data: "
                        f"{str(exc).splitlines()[0]}") from None
    return _Outcome(frame, details={"dtype": str(frame.schema[step["column"]])})


def _op_select(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    columns = ctx.columns(step["columns"])
    if len(set(columns)) != len(columns):
        raise StepError(f"{ctx.where}: a column is listed twice.")
    return _Outcome(ctx.frame.select([ROW_ID, *columns]))


def _op_drop(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    return _Outcome(ctx.frame.drop(ctx.columns(step["columns"])))


def _op_rename(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    mapping = {ctx.column(old): new for old, new in step["mapping"].items()}
    kept = set(ctx.frame.columns) - set(mapping)
    clash = [new for new in mapping.values() if new in kept or new == ROW_ID]
    if clash:
        raise StepError(f"{ctx.where}: the new name(s) {', '.join(map(repr, clash))} already exist.")
    return _Outcome(ctx.frame.rename(mapping))


def _op_map_values(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    column = ctx.column(step["column"])
    series = ctx.frame.get_column(column)
    keys = list(step["mapping"])
    old = pl.Series(keys).cast(series.dtype, strict=False) if series.dtype != pl.String else pl.Series(keys)
    if old.null_count():
        bad = [k for k, v in zip(keys, old.to_list(), strict=True) if v is None]
        raise StepError(f"{ctx.where}: the key(s) {', '.join(map(repr, bad))} cannot be compared with column "
                        f"{column!r} ({series.dtype}).")
    new = list(step["mapping"].values())
    matched = int(series.is_in(old.implode()).sum()) if len(old) else 0
    unmapped = step.get("unmapped", "keep")
    try:
        if unmapped == "keep":
            result = series.replace(old, new)
        else:
            default = None if unmapped == "null" else step["default"]
            result = series.replace_strict(old, new, default=default)
    except pl.exceptions.PolarsError as exc:
        raise StepError(f"{ctx.where}: cannot map values of {column!r}: {str(exc).splitlines()[0]}") from None
    return _Outcome(ctx.frame.with_columns(result.alias(column)), flagged=matched,
                    details={"mapped": matched, "unmapped": int(series.is_not_null().sum()) - matched})


def _op_mask_pii(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    frame = ctx.frame
    counts: dict[str, dict[str, int]] = {}
    masked_values = 0
    for column in ctx.columns(step.get("columns"), default_text=True):
        masked, found = pii.mask_column(frame.get_column(column), step.get("kinds"))
        if found:
            before = frame.get_column(column).cast(pl.String)
            masked_values += int(before.ne_missing(masked).sum())
            frame = frame.with_columns(masked.alias(column))
            counts[column] = found
    return _Outcome(frame, flagged=masked_values, details={"pii": counts})


def _op_detect_pii(ctx: _Ctx, step: dict[str, Any]) -> _Outcome:
    columns = ctx.columns(step.get("columns"), default_text=True)
    counts = pii.detect_pii(ctx.frame, columns=columns, kinds=step.get("kinds"))
    return _Outcome(ctx.frame, flagged=sum(sum(c.values()) for c in counts.values()), details={"pii": counts})


APPLY: dict[str, Callable[[_Ctx, dict[str, Any]], _Outcome]] = {
    "cast": _op_cast, "parse_date": _op_parse_date, "normalize_text": _op_normalize_text, "impute": _op_impute,
    "duplicates": _op_duplicates, "outliers": _op_outliers, "filter": _op_filter, "select": _op_select,
    "drop": _op_drop, "rename": _op_rename, "derive": _op_derive, "map_values": _op_map_values,
    "mask_pii": _op_mask_pii, "detect_pii": _op_detect_pii,
}


def apply_steps(frame: pl.LazyFrame | pl.DataFrame,
                steps: list[dict[str, Any]]) -> tuple[pl.LazyFrame, list[StepReport]]:
    """Apply the steps in order and return the result with one report per step; raise StepError on failure.

    Steps run on a materialised frame so each report can count rows and name failing rows exactly.
    """
    validate_steps(steps)
    data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    if ROW_ID in data.columns:
        raise StepError(f"The data has a column named {ROW_ID!r}, which recipes reserve.")
    data = data.with_row_index(ROW_ID, offset=1)
    reports: list[StepReport] = []
    for index, step in enumerate(steps, start=1):
        rows_in = data.height
        try:
            outcome = APPLY[step["op"]](_Ctx(index, step["op"], data), step)
        except StepError as exc:
            exc.reports = reports  # what ran before the failure, for previews
            raise
        data = outcome.frame
        reports.append(StepReport(step=index, op=step["op"], label=describe_step(step), rows_in=rows_in,
                                  rows_out=data.height, flagged=outcome.flagged, errors=outcome.errors,
                                  details=outcome.details))
    return data.drop(ROW_ID).lazy(), reports
