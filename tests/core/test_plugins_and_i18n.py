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
