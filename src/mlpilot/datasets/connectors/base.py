"""What every built-in connector shares: its error type, the bad-row policy, column-name checks and watermarks."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import polars as pl

from mlpilot.core.allowlist import AllowList
from mlpilot.core.errors import InvalidInput
from mlpilot.core.limits import DEFAULT_LIMITS, SizeLimits

BAD_ROW_POLICIES = ("fail", "quarantine")


class ConnectorError(InvalidInput):
    """A source cannot be reached or read; `transient` marks failures worth retrying (network, server down)."""

    def __init__(self, detail: str, *, transient: bool = False) -> None:
        super().__init__(detail)
        self.transient = transient


@dataclass(frozen=True)
class QuarantinedRow:
    """A row set aside under the quarantine policy: where it was, its raw text and why it was rejected."""

    source: str
    line: int
    raw: str
    reason: str


class BaseConnector:
    """Stores settings and secrets, validates the common settings and implements watermarks.

    Common settings: `on_bad_rows` (fail | quarantine) and `watermark_column` (optional).
    """

    kind: ClassVar[str] = ""
    secret_fields: ClassVar[tuple[str, ...]] = ()
    # Settings a subclass accepts besides the common ones; anything else is rejected with its name.
    known_settings: ClassVar[tuple[str, ...]] = ()
    common_settings: ClassVar[tuple[str, ...]] = ("on_bad_rows", "watermark_column")

    def __init__(self, settings: dict[str, Any], secrets: dict[str, Any]) -> None:
        self.settings = dict(settings or {})
        self.secrets = dict(secrets or {})
        unknown = sorted(set(self.settings) - set(self.known_settings) - set(self.common_settings))
        if unknown:
            allowed = ", ".join(sorted(set(self.known_settings) | set(self.common_settings)))
            raise ConnectorError(f"Unknown {self.kind} connector setting(s) {', '.join(unknown)}; "
                                 f"expected some of: {allowed}.")
        self.on_bad_rows = str(self.settings.get("on_bad_rows") or "fail")
        if self.on_bad_rows not in BAD_ROW_POLICIES:
            raise ConnectorError(f"on_bad_rows must be 'fail' or 'quarantine'; got {self.on_bad_rows!r}.")
        self.watermark_column: str | None = (self.settings.get("watermark_column") or None)
        self.quarantined: list[QuarantinedRow] = []
        # The server's allow-list (set by the connections service); every open re-checks against it.
        self.guard: AllowList | None = None
        # Caps on decompressed size and ratio (the server's settings replace the defaults).
        self.limits: SizeLimits = DEFAULT_LIMITS

    def check_allowed(self, guard: AllowList) -> None:
        """Refuse a source outside the admin's allow-list and remember the list for later opens."""
        self.guard = guard

    @classmethod
    def split_secrets(cls, settings: dict[str, Any], secrets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Move secret fields given among the settings into the secrets, so they are never stored in clear."""
        settings, secrets = dict(settings or {}), dict(secrets or {})
        for name in cls.secret_fields:
            if name in settings:
                secrets[name] = settings.pop(name)
        return settings, secrets

    # Column names -----------------------------------------------------------------------------------------

    @staticmethod
    def check_column_names(names: list[str], *, source: str) -> None:
        """Raise if a column name is empty or repeated, naming the columns' positions."""
        seen: dict[str, int] = {}
        for position, name in enumerate(names, start=1):
            if name is None or not str(name).strip():
                raise ConnectorError(f"{source}: column {position} has an empty name; name every column.")
            if name in seen:
                raise ConnectorError(f"{source}: duplicate column name {name!r} (columns {seen[name]} and "
                                     f"{position}); column names must be unique.")
            seen[name] = position

    # Watermarks -------------------------------------------------------------------------------------------

    def filter_newer(self, frame: pl.DataFrame, watermark: str | None, *, source: str) -> pl.DataFrame:
        """Keep the rows whose watermark column is greater than `watermark` (all rows without one)."""
        if not self.watermark_column:
            return frame
        if self.watermark_column not in frame.columns:
            raise ConnectorError(f"{source}: the watermark column {self.watermark_column!r} does not exist; "
                                 f"columns are {', '.join(frame.columns)}.")
        if watermark is None:
            return frame
        dtype = frame.schema[self.watermark_column]
        return frame.filter(pl.col(self.watermark_column) > watermark_literal(watermark, dtype))

    def new_watermark(self, frame: pl.DataFrame | pl.LazyFrame) -> str | None:
        """Return the greatest watermark-column value of `frame` as text, or None."""
        if not self.watermark_column:
            return None
        names = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
        if self.watermark_column not in names:
            raise ConnectorError(f"The watermark column {self.watermark_column!r} is not among the columns read "
                                 f"({', '.join(names)}).")
        top = frame.select(pl.col(self.watermark_column).max())
        value = (top.collect() if isinstance(top, pl.LazyFrame) else top).item()
        return format_watermark(value)


def format_watermark(value: Any) -> str | None:
    """Render a watermark value as text that `parse_watermark` reads back with its type."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


_INT = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?\d+\.\d*(e-?\d+)?$", re.IGNORECASE)


def parse_watermark(text: str) -> Any:
    """Read a stored watermark back as int, float, datetime, date or (else) text, for a query parameter."""
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return dt.date.fromisoformat(text)
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    return text


def watermark_literal(text: str, dtype: pl.DataType) -> pl.Expr:
    """A literal of the column's type holding the watermark, for comparing in Polars."""
    value = parse_watermark(text)
    if dtype == pl.String:
        return pl.lit(text)
    if isinstance(dtype, pl.Datetime) and isinstance(value, dt.datetime):
        if dtype.time_zone is None and value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        return pl.lit(value).cast(dtype)
    return pl.lit(value).cast(dtype, strict=False)
