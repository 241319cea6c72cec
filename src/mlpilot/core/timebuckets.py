"""A SQL expression for the UTC calendar day ("YYYY-MM-DD") of a timestamp column, per database dialect.

Grouping by day in the database keeps a year of telemetry from crossing the wire row by row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, String, cast, func
from sqlalchemy.orm import InstrumentedAttribute, Session


def utc_day(session: Session, column: InstrumentedAttribute[dt.datetime] | InstrumentedAttribute[dt.datetime | None]
            ) -> ColumnElement[str]:
    """Return an expression giving the UTC day of `column` as text, for the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD", type_=String)
    if dialect in ("mysql", "mariadb"):
        return func.date_format(column, "%Y-%m-%d", type_=String)
    # SQLite keeps UTC timestamps as ISO text ("2026-01-31 23:00:00.000000+00:00"): the day is its first ten.
    return func.substr(cast(column, String), 1, 10, type_=String)
