"""The data-quality report of a profile: self-contained HTML (inline SVG charts, gettext) and PDF via WeasyPrint.

A printable document: charts are inline SVG and colours, so it needs no scripts and no network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mlpilot.core.documents import document_environment
from mlpilot.core.errors import InvalidInput
from mlpilot.core.i18n import get_translations
from mlpilot.core.pdf import html_to_pdf
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import profiling
from mlpilot.datasets import service as datasets_service

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
_env = document_environment(TEMPLATE_DIR)
CHART_WIDTH, CHART_HEIGHT = 240.0, 60.0
MAX_ASSOCIATION_BARS = 20


def svg_bars(values: list[float]) -> list[dict[str, float]]:
    """Return the rectangles (x, y, w, h in a 240×60 box) of a bar chart of `values`."""
    if not values:
        return []
    top = max(values) or 1
    width = CHART_WIDTH / len(values)
    bars = []
    for i, value in enumerate(values):
        height = CHART_HEIGHT * value / top
        bars.append({"x": round(i * width, 2), "y": round(CHART_HEIGHT - height, 2), "w": round(max(width - 1, 0.5), 2),
                     "h": round(height, 2)})
    return bars


def correlation_colour(value: float | None) -> str:
    """Return a CSS background for a correlation cell: blue for positive, red for negative, white for none."""
    if value is None:
        return "#f3f4f6"
    strength = min(abs(value), 1.0)
    return f"rgba(47, 91, 234, {strength:.2f})" if value >= 0 else f"rgba(220, 38, 38, {strength:.2f})"


def column_chart(column: dict[str, Any]) -> dict[str, Any] | None:
    """Return the labels and counts charted for a column: its top values, else its histogram."""
    if column.get("top_values") and (column["kind"] != "numeric" or not column.get("histogram")
                                     or column["distinct"] <= 10):
        top = column["top_values"]
        return {"kind": "top", "labels": [str(t["value"]) for t in top], "counts": [t["count"] for t in top]}
    if column.get("histogram"):
        edges, counts = column["histogram"]["edges"], column["histogram"]["counts"]
        return {"kind": "histogram", "labels": [f"{edges[i]:.4g}" for i in range(len(counts))], "counts": counts,
                "low": edges[0], "high": edges[-1]}
    return None


def report_context(profile: dict[str, Any]) -> dict[str, Any]:
    """Return what the report template shows: warnings by severity, charts per column and the correlation grid."""
    columns = []
    for c in profile.get("column_profiles", []):
        chart = column_chart(c)
        columns.append({"c": c, "chart": chart, "bars": svg_bars(chart["counts"]) if chart else []})
    correlations = profile.get("correlations")
    grid = None
    if correlations:
        names = correlations["columns"]
        grid = {"names": names, "rows": [[{"value": v, "colour": correlation_colour(v)} for v in row]
                                          for row in correlations["spearman"]]}
    association = (profile.get("target_association") or [])[:MAX_ASSOCIATION_BARS]
    warnings = profile.get("warnings") or []
    return {"columns": columns, "grid": grid, "association": association, "warnings": warnings,
            "counts": {s: sum(1 for w in warnings if w["severity"] == s) for s in ("error", "warning", "info")}}


def render_html(profile: dict[str, Any], *, title: str, locale: str = "en", subtitle: str = "") -> str:
    """Return the self-contained HTML data-quality report of a profile in `locale`."""
    translations = get_translations(locale)
    template = _env.get_template("datasets/quality_report.html")
    return template.render(profile=profile, title=title, subtitle=subtitle, locale=locale, _=translations.gettext,
                           ngettext=translations.ngettext, **report_context(profile))


def render_pdf(html: str) -> bytes:
    """Return the PDF of a report's HTML, drawn with the fonts shipped in the package."""
    return html_to_pdf(html, base_url=TEMPLATE_DIR)


def build_quality_report(session: Session, *, store: ArtifactStore, version_id: int, fmt: str = "html",
                         target: str | None = None, task: str | None = None,
                         locale: str = "en") -> tuple[bytes, str, str]:
    """Render the quality report of a dataset version; return (content, media type, file name).

    Without a target the stored profile is used; with one the version is profiled again for that target and the
    planned task (classification or regression; inferred when not given).
    """
    if fmt not in ("html", "pdf"):
        raise InvalidInput(f"format must be 'html' or 'pdf'; got {fmt!r}.")
    version = datasets_service.get_dataset_version(session, version_id=version_id)
    if target:
        frame = datasets_service.scan_dataset_version(session, store=store, version_id=version_id)
        profile = profiling.profile_frame(frame, target=target, task=task)
    else:
        profile = datasets_service.get_dataset_profile(session, version_id=version_id).profile
    name = version.dataset.name
    subtitle = f"{name} v{version.version} · {version.created_at:%Y-%m-%d %H:%M} UTC"
    html = render_html(profile, title=f"{name} v{version.version}", subtitle=subtitle, locale=locale)
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "dataset"
    filename = f"{stem}-v{version.version}-quality.{fmt}"
    if fmt == "pdf":
        return render_pdf(html), "application/pdf", filename
    return html.encode("utf-8"), "text/html; charset=utf-8", filename
