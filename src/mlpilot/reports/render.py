"""Render a status report from Evidence: HTML through Jinja (bilingual via gettext) and PDF through WeasyPrint."""

from __future__ import annotations

from pathlib import Path

from mlpilot.core.documents import document_environment
from mlpilot.core.i18n import get_translations
from mlpilot.core.pdf import html_to_pdf
from mlpilot.reports.evidence import Evidence
from mlpilot.usecases.screening import QUESTIONS

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_env = document_environment(TEMPLATE_DIR)


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
