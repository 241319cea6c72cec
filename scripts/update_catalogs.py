"""Extracted template → en and ko catalogs (Korean from ko_translations.py) → compiled .mo files."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ko_translations import KO  # noqa: E402

LOCALE_DIR = Path(__file__).resolve().parents[1] / "src" / "mlpilot" / "locale"
template = read_po((LOCALE_DIR / "messages.pot").open("rb"))
untranslated = []
for locale in ("en", "ko"):
    catalog = Catalog(locale=locale, domain="messages", project="mlpilot")
    for message in template:
        if not message.id:
            continue
        text = KO.get(message.id, "") if locale == "ko" else ""
        if locale == "ko" and not text:
            untranslated.append(message.id)
        catalog.add(message.id, text, locations=message.locations)
    out = LOCALE_DIR / locale / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "messages.po").open("wb") as handle:
        write_po(handle, catalog, width=110, sort_output=True, omit_header=False)
    with (out / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
if untranslated:
    print("Korean translation missing for:", *untranslated, sep="\n  ", file=sys.stderr)
    sys.exit(1)
