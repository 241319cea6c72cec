"""Render a status report from Evidence: HTML through Jinja (bilingual via gettext) and PDF through WeasyPrint."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from mlpilot.core.i18n import get_translations
from mlpilot.core.pdf import html_to_pdf
from mlpilot.reports.evidence import Evidence
from mlpilot.usecases.screening import QUESTIONS

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html"]))


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


_env.filters["num"] = format_number
_env.filters["day"] = format_date


def render_html(evidence: Evidence, *, locale: str) -> str:
    """Return the self-contained HTML of a status report in `locale`."""
    translations = get_translations(locale)
    template = _env.get_template("status.html")
    questions = {q.key: q.localized_text(locale) for q in QUESTIONS}
    return template.render(e=evidence, locale=locale, questions=questions, _=translations.gettext,
                           ngettext=translations.ngettext)


def render_pdf(html: str) -> bytes:
    """Return the PDF of an HTML report, drawn with the fonts shipped in the package."""
    return html_to_pdf(html, base_url=TEMPLATE_DIR)
