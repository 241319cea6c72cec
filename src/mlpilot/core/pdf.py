"""HTML → PDF with the fonts shipped in the package, refusing documents whose text those fonts cannot draw.

WeasyPrint takes fonts from the system, so on a machine without a CJK font a Korean report came out as empty
boxes. The package ships NanumSquare (OFL) and every PDF is drawn with it; a character it has no glyph for
fails the render with a message naming it instead of silently producing an unreadable document.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from mlpilot.core.errors import InvalidInput

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY = "mlpilot Sans"
_FACES = (("NanumSquareR.ttf", "normal"), ("NanumSquareB.ttf", "bold"))


def font_face_css() -> str:
    """Return the @font-face rules that bind the shipped fonts to `FONT_FAMILY`."""
    return "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{(FONT_DIR / name).as_uri()}"); '
        f"font-weight: {weight}; }}"
        for name, weight in _FACES
    ) + f'\nhtml, body {{ font-family: "{FONT_FAMILY}", sans-serif; }}\n'


@cache
def covered_codepoints() -> frozenset[int]:
    """Return the code points every shipped face can draw."""
    from fontTools.ttLib import TTFont

    sets = [set(TTFont(FONT_DIR / name, lazy=True).getBestCmap()) for name, _ in _FACES]
    return frozenset(set.intersection(*sets))


class _TextCollector(HTMLParser):
    """Collects the text a browser would draw: character data outside <style>, <script> and <head>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def missing_glyphs(html: str) -> list[str]:
    """Return the distinct characters of the document's text that the shipped fonts cannot draw."""
    collector = _TextCollector()
    collector.feed(html)
    covered = covered_codepoints()
    missing: dict[str, None] = {}
    for char in "".join(collector.parts):
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs"):
            continue
        if ord(char) not in covered:
            missing[char] = None
    return list(missing)


def html_to_pdf(html: str, *, base_url: str | Path | None = None) -> bytes:
    """Return the PDF of an HTML document drawn with the shipped fonts; refuse text they cannot draw."""
    missing = missing_glyphs(html)
    if missing:
        shown = ", ".join(f"{char!r} (U+{ord(char):04X}, {unicodedata.name(char, 'unnamed')})"
                          for char in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise InvalidInput(
            f"The PDF cannot be made: the bundled fonts have no glyph for {shown}{more}. "
            "Remove or replace these characters (for example in names or notes), or download the HTML version."
        )
    # Imported here: WeasyPrint loads Pango on import and only PDF downloads and report jobs need it.
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    stylesheet = CSS(string=font_face_css(), font_config=fonts)
    document = HTML(string=html, base_url=str(base_url) if base_url else None)
    return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)
