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

    @property
    def industries(self) -> tuple[str, ...]:
        """The industries this use case is typical for (the catalog lists them comma-separated)."""
        return tuple(part.strip() for part in self.industry.split(",") if part.strip())


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


def filter_usecases(*, industry: str | None = None, business_function: str | None = None,
                    task_type: str | None = None) -> list[UseCase]:
    """Return use cases matching every given filter (case-insensitive; industry matches any listed one)."""

    def matches(usecase: UseCase) -> bool:
        if industry and not any(industry.strip().lower() in ind.lower() for ind in usecase.industries):
            return False
        if business_function and business_function.strip().lower() != usecase.business_function.lower():
            return False
        return not (task_type and task_type.strip().lower() != usecase.task_type.lower())

    return [u for u in list_usecases() if matches(u)]


def list_industries() -> list[str]:
    """Return every industry named in the catalog, sorted, with the first letter capitalized."""
    names = {ind[:1].upper() + ind[1:] for u in list_usecases() for ind in u.industries}
    return sorted(names, key=str.lower)


def list_business_functions() -> list[str]:
    """Return every business function in the catalog, sorted."""
    return sorted({u.business_function for u in list_usecases()})


def list_task_types() -> list[str]:
    """Return every task type in the catalog, sorted."""
    return sorted({u.task_type for u in list_usecases()})
