"""API shapes of the team domain: profiles, task needs and the salary table in; the typed results (gap map,
skill gaps, staffing cost, build vs managed) are the frozen dataclasses of `team.compute`."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from mlpilot.core.schemas import InputModel, ReadModel
from mlpilot.team.compute import BuildVsManaged, GapMap, MemberSkills, SkillGap, StaffingCost

BOUND, MAX_ID = 1e15, 2**31 - 1
Key = Field(min_length=1, max_length=30, pattern=r"^[a-z_]+$")


class ProfileSet(InputModel):
    """A member's AI role, level, share of their time on the project and skill (0–3) per AI process step."""

    role: str = Key
    level: str = Field("mid", min_length=1, max_length=10, pattern=r"^[a-z_]+$")
    capacity_percent: int = Field(100, ge=0, le=100, description="Share of the member's time on the project.")
    skills: dict[str, int] = Field(default_factory=dict, max_length=20,
                                   description="AI step key → 0 none, 1 basic, 2 working, 3 expert.")


class ProfileRead(ReadModel):
    user_id: int
    username: str
    responsibility: str
    role: str | None
    level: str | None
    capacity_percent: int | None
    skills: dict[str, int]


class NeedCreate(InputModel):
    task_id: int = Field(ge=1, le=MAX_ID)
    role: str = Key
    level: str = Field("mid", min_length=1, max_length=10, pattern=r"^[a-z_]+$")
    percent: int = Field(ge=1, le=1000, description="Share of a full-time person: 100 = one person, 200 = two.")
    step: str | None = Field(None, max_length=20, pattern=r"^[a-z_]+$", description="The AI process step.")


class NeedRead(ReadModel):
    id: int
    task_id: int
    role: str
    level: str
    percent: int
    step: str | None


class SalaryCell(InputModel):
    role: str = Key
    level: str = Field(min_length=1, max_length=10, pattern=r"^[a-z_]+$")
    monthly_cost: float | None = Field(None, ge=-BOUND, le=BOUND, allow_inf_nan=False)


class SalaryTableIn(InputModel):
    currency: str = Field("KRW", pattern=r"^[A-Z]{3}$")
    entries: list[SalaryCell] = Field(max_length=200)


@dataclass(frozen=True)
class SalaryRow:
    role: str
    level: str
    monthly_cost: float


@dataclass(frozen=True)
class SalaryTable:
    currency: str
    source: str  # package (shipped defaults) | custom (an admin's table)
    entries: list[SalaryRow]

    def rates(self) -> dict[tuple[str, str], float]:
        return {(e.role, e.level): e.monthly_cost for e in self.entries}


@dataclass(frozen=True)
class TeamOverview:
    """Everything the team page and `mlpilot team show` need for one project."""

    project_id: int
    members: list[MemberSkills]
    unprofiled: list[str]
    gaps: GapMap
    skills: list[SkillGap]
    cost: StaffingCost
    comparison: BuildVsManaged
