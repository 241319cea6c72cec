"""The use-case catalog shipped with the package (catalog.json), read once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOG_FILE = Path(__file__).resolve().parent / "catalog.json"


@dataclass(frozen=True)
class UseCase:
    key: str
    name: str
    name_ko: str
    industry: str
    business_function: str
    task_type: str
    typical_data: str
    kpis: tuple[str, ...]
    summary: str
    summary_ko: str

    def localized_name(self, locale: str) -> str:
        return self.name_ko if locale == "ko" else self.name

    def localized_summary(self, locale: str) -> str:
        return self.summary_ko if locale == "ko" else self.summary


@lru_cache(maxsize=1)
def _load() -> dict[str, UseCase]:
    rows = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return {row["key"]: UseCase(**{**row, "kpis": tuple(row["kpis"])}) for row in rows}


def list_usecases() -> list[UseCase]:
    """Return every use case in catalog order."""
    return list(_load().values())


def find_usecase(key: str) -> UseCase | None:
    """Return the use case with `key`, if any."""
    return _load().get(key)
