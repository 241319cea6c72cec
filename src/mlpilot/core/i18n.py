"""gettext catalogs (English, Korean) and the choice of a request's language."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES = ("en", "ko")
LOCALE_NAMES = {"en": "English", "ko": "한국어"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@cache
def get_translations(locale: str) -> NullTranslations:
    """Return the compiled catalog for `locale` (English falls back to the source strings)."""
    if locale not in LOCALES:
        locale = LOCALES[0]
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


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
