"""The team catalog shipped as data (`data/catalog.json`, ko/en): the six roles, levels, the seven AI process
steps with the roles each needs by default, training courses, the default salary table and the assumptions of
the build-in-house vs managed-service comparison."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOG_FILE = Path(__file__).resolve().parent / "data" / "catalog.json"


@dataclass(frozen=True)
class Named:
    key: str
    en: str
    ko: str

    def name(self, locale: str) -> str:
        return self.ko if locale == "ko" else self.en


@dataclass(frozen=True)
class DefaultNeed:
    role: str
    percent: int
    level: str


@dataclass(frozen=True)
class Step(Named):
    template_task: str
    needs: tuple[DefaultNeed, ...]


@dataclass(frozen=True)
class Course(Named):
    step: str
    level: int
    hours: int
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Assumptions:
    """What the build-in-house vs managed comparison assumes besides the salary table (all money per month)."""

    hire_level: str
    recruiting_fee_share: float
    attrition_rate: float
    hiring_lead_months: int
    platform_build_months: int
    tooling_per_seat_month: float
    infrastructure_in_house_setup: float
    infrastructure_in_house_month: float
    managed_onboarding_months: int
    managed_setup: float
    managed_fee_month: float
    managed_covers: dict[str, float]
    reference_team: dict[str, int]


@dataclass(frozen=True)
class Catalog:
    roles: tuple[Named, ...]
    levels: tuple[Named, ...]
    level_skill: dict[str, int]
    skill_levels: dict[int, Named]
    steps: tuple[Step, ...]
    courses: tuple[Course, ...]
    currency: str
    salaries: dict[tuple[str, str], float]
    assumptions: Assumptions

    @property
    def role_keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.roles)

    @property
    def level_keys(self) -> tuple[str, ...]:
        return tuple(v.key for v in self.levels)

    @property
    def step_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.steps)

    def role(self, key: str) -> Named:
        return next(r for r in self.roles if r.key == key)

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalog file, parsed once."""
    raw = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    levels = tuple(Named(key=v["key"], en=v["en"], ko=v["ko"]) for v in raw["levels"])
    steps = tuple(Step(key=s["key"], en=s["en"], ko=s["ko"], template_task=s["template_task"],
                       needs=tuple(DefaultNeed(**n) for n in s["needs"])) for s in raw["steps"])
    courses = tuple(Course(key=c["key"], en=c["en"], ko=c["ko"], step=c["step"], level=int(c["level"]),
                           hours=int(c["hours"]), roles=tuple(c["roles"])) for c in raw["courses"])
    salaries = {(role, level): float(cost) for role, by_level in raw["salaries"]["monthly"].items()
                for level, cost in by_level.items()}
    return Catalog(
        roles=tuple(Named(key=r["key"], en=r["en"], ko=r["ko"]) for r in raw["roles"]), levels=levels,
        level_skill={v["key"]: int(v["skill"]) for v in raw["levels"]},
        skill_levels={int(v["value"]): Named(key=str(v["value"]), en=v["en"], ko=v["ko"]) for v in raw["skill_levels"]},
        steps=steps, courses=courses, currency=raw["salaries"]["currency"], salaries=salaries,
        assumptions=Assumptions(**raw["comparison"]))
