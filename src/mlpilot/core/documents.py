"""What every printable document shares: number and date formatting and a Jinja environment that has them.

Reports, model cards and data-quality reports are drawn by different domains; they format figures the same way
and draw PDFs through `mlpilot.core.pdf`, so a domain needs no other domain to print.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape


def format_number(value: Any, digits: int = 4) -> str:
    """Format metrics compactly: integers with separators, floats with `digits` significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "—"
        return f"{value:,.0f}" if abs(value) >= 10 ** digits else f"{value:.{digits}g}"
    return str(value)


def format_date(value: Any) -> str:
    """Format a date or datetime as YYYY-MM-DD (strings pass through)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    return "—" if value is None else str(value)


def document_environment(template_dir: Path) -> Environment:
    """A Jinja environment over `template_dir`, HTML-escaped, with the `num` and `day` filters."""
    env = Environment(loader=FileSystemLoader(str(template_dir)), autoescape=select_autoescape(["html"]))
    env.filters["num"] = format_number
    env.filters["day"] = format_date
    return env
