"""The parts of a generated document, independent of its file format: sections of paragraphs, facts, tables and
charts. Sections build them from the evidence; writers.py draws them as HTML (→ PDF), DOCX and HWPX."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = ""  # "" | "muted" | "empty" | "lead"


@dataclass(frozen=True)
class Facts:
    """Label–value pairs shown as key figures."""

    items: list[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Chart:
    """A PNG drawn at render time, with its size on the page."""

    png: bytes
    caption: str
    width_mm: float = 170.0
    height_mm: float = 75.0


Block = Paragraph | Facts | Table | Chart


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    kind: str
    locale: str
    title: str
    subtitle: str
    generated_at: dt.datetime
    sections: list[Section]
    footer: str = ""

    def charts(self) -> int:
        return sum(isinstance(b, Chart) for s in self.sections for b in s.blocks)
