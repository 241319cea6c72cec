"""A business KPI feed: a table with a month column and a value column, checked and turned into monthly actuals.

Pure (no database): the service reads the rows through a connection and hands them here. A feed must hold one
number per month with no month missing between its first and its last; anything else is refused with the column,
row or months named.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.value.compute import add_months, month_key

MAX_FEED_ROWS = 10_000  # about 800 years of months: anything longer is not a monthly feed
_MONTH = re.compile(r"^(\d{4})-(\d{2})(-\d{2}([ T].*)?)?$")


def _month_of(value: object, *, column: str, row: int) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return month_key(value)
    text = str(value).strip() if value is not None else ""
    match = _MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput(f"Feed column {column!r}, row {row}: {text!r} is not a month; expected YYYY-MM or a date.")
    return f"{match.group(1)}-{match.group(2)}"


def _numbers(frame: pl.DataFrame, column: str) -> list[float]:
    dtype = frame.schema[column]
    if not (dtype.is_numeric() or dtype == pl.Null):
        sample = next((v for v in frame[column].to_list() if v is not None), None)
        raise InvalidInput(f"Feed column {column!r} holds {dtype} values (e.g. {sample!r}), not numbers; "
                           "point the value column at a numeric column.")
    values = frame[column].to_list()
    empty = [i + 1 for i, v in enumerate(values) if v is None]
    if empty:
        raise InvalidInput(f"Feed column {column!r} is empty in row(s) {', '.join(map(str, empty[:10]))}; "
                           "every month needs a value.")
    return [float(v) for v in values]


def monthly_feed(chunks: Iterable[pl.DataFrame], *, month_column: str, value_column: str) -> dict[str, float]:
    """Return month ("YYYY-MM") → value from the feed's rows, or raise naming the column, row or missing months."""
    parts, rows = [], 0
    for chunk in chunks:
        rows += chunk.height
        if rows > MAX_FEED_ROWS:
            raise InvalidInput(f"The feed has more than {MAX_FEED_ROWS} rows; a monthly feed holds one row per month.")
        parts.append(chunk)
    if not parts or rows == 0:
        raise InvalidInput("The feed has no rows; it needs one row per month.")
    frame = pl.concat(parts, how="vertical_relaxed")
    for column in (month_column, value_column):
        if column not in frame.columns:
            raise InvalidInput(f"The feed has no column {column!r}; its columns are {', '.join(frame.columns)}.")
    values = _numbers(frame, value_column)
    result: dict[str, float] = {}
    for row, (raw, value) in enumerate(zip(frame[month_column].to_list(), values, strict=True), start=1):
        month = _month_of(raw, column=month_column, row=row)
        if month in result:
            raise InvalidInput(f"Feed column {month_column!r}: month {month} appears more than once (row {row}); "
                               "keep one row per month.")
        result[month] = value
    first, last = min(result), max(result)
    missing, cursor = [], dt.date(int(first[:4]), int(first[5:]), 1)
    while month_key(cursor) < last:
        cursor = add_months(cursor, 1)
        if month_key(cursor) not in result:
            missing.append(month_key(cursor))
    if missing:
        raise InvalidInput(f"Feed column {month_column!r} is missing month(s) {', '.join(missing[:24])} between "
                           f"{first} and {last}; add a row for each month.")
    return result
