"""Adapter registries from entry points, and the language negotiation and catalogs."""

from __future__ import annotations

import pytest

from mlpilot.core.errors import NotFound
from mlpilot.core.i18n import get_translations, negotiate_locale
from mlpilot.core.plugins import AdapterRegistry


def test_registry_lists_builtin_engine_from_entry_points() -> None:
    registry: AdapterRegistry[object] = AdapterRegistry("mlpilot.engines", "engine")
    assert "lightgbm" in registry.names()


def test_unknown_adapter_names_the_available_ones() -> None:
    registry: AdapterRegistry[object] = AdapterRegistry("mlpilot.engines", "engine")
    with pytest.raises(NotFound, match="lightgbm"):
        registry.get("does-not-exist")


def test_registering_by_hand() -> None:
    registry: AdapterRegistry[object] = AdapterRegistry("mlpilot.nothing-here", "widget")
    registry.register("w", dict)
    assert registry.get("w") is dict


@pytest.mark.parametrize(
    ("header", "expected"),
    [("ko-KR,ko;q=0.9,en;q=0.8", "ko"), ("en-US,en;q=0.9", "en"), ("fr, ko;q=0.5", "ko"), ("fr", "en"), (None, "en"),
     ("en;q=0.2, ko;q=0.8", "ko")],
)
def test_locale_negotiation(header: str | None, expected: str) -> None:
    assert negotiate_locale(header, "en") == expected


def test_korean_catalog_translates_ui_text() -> None:
    assert get_translations("ko").gettext("Projects") == "프로젝트"
    assert get_translations("en").gettext("Projects") == "Projects"


def test_catalogs_cover_every_ui_string(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The Korean .po is the source: every UI string translated, none fuzzy, stale or given twice."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-o", str(pot), "src/mlpilot"],
                   cwd=root, check=True)
    wanted = {m.id for m in read_po(pot.open("rb")) if m.id}
    ko_path = root / "src/mlpilot/locale/ko/LC_MESSAGES/messages.po"
    korean = read_po(ko_path.open("rb"), locale="ko")
    entries = [m for m in korean if m.id]
    missing = sorted(wanted - {m.id for m in entries})
    assert not missing, f"run 'make i18n', then translate in {ko_path.name}: {missing[:10]}"
    untranslated = sorted(m.id for m in entries if not m.string)
    assert not untranslated, f"untranslated Korean entries: {untranslated[:10]}"
    fuzzy = sorted(m.id for m in entries if m.fuzzy)
    assert not fuzzy, f"fuzzy Korean entries (check the translation, then drop the '#, fuzzy' line): {fuzzy[:10]}"
    stale = sorted({m.id for m in entries} - wanted)
    assert not stale, f"entries no UI text uses any more (run 'make i18n'): {stale[:10]}"
    # read_po keeps the last of two equal msgids silently, so count them in the text itself.
    raw_ids = re.findall(r'^msgid "(.+)"$', ko_path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    twice = sorted({i for i in raw_ids if raw_ids.count(i) > 1})
    assert not twice, f"msgids given twice in {ko_path.name}: {twice[:10]}"
