"""Draw a Document as HTML (and from it PDF), DOCX (python-docx) and HWPX (python-hwpx).

Every writer draws the same blocks in the same order, so the three files carry the same figures.
"""

from __future__ import annotations

import base64
import io
import struct
from pathlib import Path
from typing import Any

from mlpilot.core.documents import document_environment
from mlpilot.core.pdf import FONT_FAMILY, html_to_pdf
from mlpilot.reports.blocks import Chart, Document, Facts, Paragraph, Table

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_env = document_environment(TEMPLATE_DIR)
_env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
DOCX_FONT = "NanumSquare"  # the family name of the shipped font; Word falls back to its own when absent
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "hwpx": "application/hwp+zip",
}


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's header."""
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def chart_height_mm(chart: Chart) -> float:
    width, height = png_size(chart.png)
    return chart.width_mm * height / max(width, 1)


def to_html(document: Document) -> str:
    return _env.get_template("document.html").render(d=document, font_family=FONT_FAMILY)


def to_pdf(html: str) -> bytes:
    return html_to_pdf(html, base_url=TEMPLATE_DIR)


def to_docx(document: Document) -> bytes:
    from docx import Document as DocxDocument
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = DocxDocument()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = DOCX_FONT, Pt(9.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), DOCX_FONT)
    doc.core_properties.title = document.title
    doc.add_heading(document.title, level=0)
    if document.subtitle:
        doc.add_paragraph(document.subtitle)
    for sec in document.sections:
        doc.add_heading(sec.heading, level=1)
        for block in sec.blocks:
            if isinstance(block, Paragraph):
                para = doc.add_paragraph(block.text)
                if block.style == "lead":
                    para.runs[0].bold = True
            elif isinstance(block, Facts):
                table = doc.add_table(rows=len(block.items), cols=2)
                table.style = "Table Grid"
                for row, (key, value) in zip(table.rows, block.items, strict=True):
                    row.cells[0].text, row.cells[1].text = key, value
            elif isinstance(block, Table):
                table = doc.add_table(rows=1 + len(block.rows), cols=len(block.headers))
                table.style = "Table Grid"
                for cell, header in zip(table.rows[0].cells, block.headers, strict=True):
                    cell.text = header
                    cell.paragraphs[0].runs[0].bold = True
                for row, values in zip(table.rows[1:], block.rows, strict=True):
                    for cell, value in zip(row.cells, values, strict=True):
                        cell.text = value
            elif isinstance(block, Chart):
                doc.add_picture(io.BytesIO(block.png), width=Mm(block.width_mm))
                doc.add_paragraph(block.caption)
    if document.footer:
        doc.add_paragraph(document.footer)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def to_hwpx(document: Document) -> bytes:
    from hwpx import HwpxDocument

    doc = HwpxDocument.new()
    doc.add_heading(document.title, level=1)
    if document.subtitle:
        doc.add_paragraph(document.subtitle)
    for sec in document.sections:
        doc.add_heading(sec.heading, level=2)
        for block in sec.blocks:
            if isinstance(block, Paragraph):
                doc.add_paragraph(block.text)
            elif isinstance(block, Facts):
                _hwpx_table(doc, [[key, value] for key, value in block.items])
            elif isinstance(block, Table):
                _hwpx_table(doc, [block.headers, *block.rows])
            elif isinstance(block, Chart):
                doc.add_picture(block.png, "png", width_mm=block.width_mm, height_mm=chart_height_mm(block))
                doc.add_paragraph(block.caption)
    if document.footer:
        doc.add_paragraph(document.footer)
    return bytes(doc.to_bytes())


def _hwpx_table(doc: Any, rows: list[list[str]]) -> None:
    """A table filled row by row (`set_cell_text` rebuilds the cell grid on every call: quadratic in cells)."""
    table = doc.add_table(len(rows), len(rows[0]))
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
