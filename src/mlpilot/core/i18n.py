"""gettext catalogs (English, Korean) and the choice of a request's language."""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "ko")
LOCALE_NAMES = {"en": "English", "ko": "한국어"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@cache
def get_translations(locale: str) -> NullTranslations:
    """Return the catalog for `locale`, compiled in memory from its .po file (English falls back to the source)."""
    if locale not in LOCALES:
        locale = LOCALES[0]
    # The .po file is the source translators edit; compiling it here means no binary .mo is kept in git to drift.
    with catalog_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain="messages")
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def catalog_path(locale: str) -> Path:
    """Return the path of a locale's message catalog (the .po file)."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def negotiate_locale(accept_language: str | None, default: str = "en") -> str:
    """Pick a supported locale from an Accept-Language header."""
    if not accept_language:
        return default
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        piece = part.strip().split(";")
        tag = piece[0].strip().lower()
        quality = 1.0
        for param in piece[1:]:
            if param.strip().startswith("q="):
                try:
                    quality = float(param.strip()[2:])
                except ValueError:
                    quality = 0.0
        weighted.append((quality, tag))
    for _, tag in sorted(weighted, key=lambda item: -item[0]):
        primary = tag.split("-")[0]
        if primary in LOCALES:
            return primary
    return default
