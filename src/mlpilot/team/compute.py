"""Pure computations of the team domain (no database): the gap map, skill gaps with training suggestions, the
staffing cost of the plan, and building in house against a managed service.

Conventions, so every figure can be checked by hand:
- effort is a share of a full-time person (`percent`, 100 = one person) over a task's working days (Mon–Fri);
- a week's need for a role is the sum over its tasks of percent / 100 × (the task's working days that week) / 5;
- what a role has available is the sum of its members' capacity / 100, the same every week;
- a month has 21 working days: a need's person-months are percent / 100 × working days / 21.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from mlpilot.team.catalog import Assumptions, Catalog

WORKING_DAYS_PER_MONTH = 21
MAX_DAYS = 3 * 366  # a task longer than this is counted over its first three years only


@dataclass(frozen=True)
class NeedSpan:
    """A role a task needs, for a share of a person, over the task's dates."""

    need_id: int
    task_id: int
    task_title: str
    step: str | None
    role: str
    level: str
    percent: int
    start: dt.date
    due: dt.date


@dataclass(frozen=True)
class MemberSkills:
    """A project member as the team domain sees them."""

    user_id: int
    username: str
    role: str
    level: str
    capacity_percent: int
    skills: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GapCell:
    week: str
    needed: float
    available: float
    short: float  # needed − available when positive, else 0
    assigned: float = 0.0  # people of the role already booked on plan tasks that week (pmo assignments)


@dataclass(frozen=True)
class GapRow:
    role: str
    available: float
    peak_needed: float
    peak_short: float
    short_weeks: int
    cells: list[GapCell]


@dataclass(frozen=True)
class GapMap:
    """Needed against available people (FTE) per role and ISO week of the plan."""

    weeks: list[str]
    rows: list[GapRow]
    short_person_weeks: float


@dataclass(frozen=True)
class CourseSuggestion:
    key: str
    title_en: str
    title_ko: str
    level: int
    hours: int
    roles: list[str]


@dataclass(frozen=True)
class SkillGap:
    """For one AI process step of the plan: the skill level it needs and the best one in the team."""

    step: str
    required: int
    best: int
    short: bool
    holders: list[str]
    courses: list[CourseSuggestion]


@dataclass(frozen=True)
class CostLine:
    need_id: int
    task_id: int
    task_title: str
    role: str
    level: str
    percent: int
    working_days: int
    person_months: float
    monthly_cost: float
    cost: float


@dataclass(frozen=True)
class RoleCost:
    role: str
    person_months: float
    cost: float


@dataclass(frozen=True)
class StaffingCost:
    """What the plan's needs cost at the salary table's rates, and what the current team costs per month."""

    currency: str
    total: float
    by_role: list[RoleCost]
    lines: list[CostLine]
    team_monthly_cost: float


@dataclass(frozen=True)
class YearCost:
    year: int
    staff: float
    hiring: float
    tooling: float
    infrastructure: float
    service_fee: float
    total: float
    cumulative: float


@dataclass(frozen=True)
class OptionCost:
    option: str  # in_house | managed
    years: list[YearCost]
    total: float
    time_to_first_value_months: int
    headcount: dict[str, float]


@dataclass(frozen=True)
class BuildVsManaged:
    """Building an AI team in house against a managed service, per year over 1–3 years."""

    years: int
    currency: str
    basis: str  # plan (the peak of the plan's needs) | reference (no needs yet: the catalog's reference team)
    in_house: OptionCost
    managed: OptionCost
    cheaper: str
    difference: float  # in-house total − managed total


def working_days(start: dt.date, due: dt.date) -> list[dt.date]:
    """The weekdays from start to due, both included (at most MAX_DAYS calendar days)."""
    days = min((due - start).days + 1, MAX_DAYS)
    return [d for d in (start + dt.timedelta(days=i) for i in range(max(days, 0))) if d.weekday() < 5]


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _weeks_between(first: dt.date, last: dt.date) -> list[str]:
    monday = first - dt.timedelta(days=first.weekday())
    weeks: list[str] = []
    while monday <= last and len(weeks) < MAX_DAYS // 7 + 2:
        weeks.append(iso_week(monday))
        monday += dt.timedelta(days=7)
    return weeks


def gap_map(needs: list[NeedSpan], members: list[MemberSkills], roles: tuple[str, ...],
            assigned: dict[tuple[str, str], float] | None = None) -> GapMap:
    """Needed vs available FTE per role (rows in `roles` order, only roles needed or staffed) and ISO week.

    `assigned` (role, ISO week) → people of the role booked on the plan's tasks that week, shown beside the gap.
    """
    assigned = assigned or {}
    needed: dict[tuple[str, str], float] = defaultdict(float)
    for need in needs:
        for day in working_days(need.start, need.due):
            needed[(need.role, iso_week(day))] += need.percent / 100 / 5
    available: dict[str, float] = defaultdict(float)
    for member in members:
        available[member.role] += member.capacity_percent / 100
    weeks = _weeks_between(min(n.start for n in needs), max(n.due for n in needs)) if needs else []
    rows, total_short = [], 0.0
    for role in roles:
        if role not in available and not any(n.role == role for n in needs):
            continue
        have = round(available[role], 2)
        cells = []
        for week in weeks:
            wanted = round(needed.get((role, week), 0.0), 2)
            short = round(max(wanted - have, 0.0), 2)
            cells.append(GapCell(week=week, needed=wanted, available=have, short=short,
                                 assigned=round(assigned.get((role, week), 0.0), 2)))
            total_short += short
        rows.append(GapRow(role=role, available=have, peak_needed=max((c.needed for c in cells), default=0.0),
                           peak_short=max((c.short for c in cells), default=0.0),
                           short_weeks=sum(1 for c in cells if c.short > 0), cells=cells))
    return GapMap(weeks=weeks, rows=rows, short_person_weeks=round(total_short, 2))


def skill_gaps(needs: list[NeedSpan], members: list[MemberSkills], catalog: Catalog) -> list[SkillGap]:
    """Per AI step the plan needs: the level its needs ask for, the team's best, and courses to close the gap.

    The level a need asks for is its role level's skill (junior 1, mid 2, senior 3). Courses suggested are those of
    the step above the team's best level, up to the level required.
    """
    required: dict[str, int] = {}
    for need in needs:
        if need.step:
            required[need.step] = max(required.get(need.step, 0), catalog.level_skill.get(need.level, 2))
    gaps = []
    for step in catalog.step_keys:
        if step not in required:
            continue
        levels = {m.username: int(m.skills.get(step, 0)) for m in members}
        best = max(levels.values(), default=0)
        short = best < required[step]
        courses = [CourseSuggestion(key=c.key, title_en=c.en, title_ko=c.ko, level=c.level, hours=c.hours,
                                    roles=list(c.roles))
                   for c in catalog.courses if short and c.step == step and best < c.level <= required[step]]
        if short and not courses:  # no course at exactly that level: the nearest ones of the step
            courses = [CourseSuggestion(key=c.key, title_en=c.en, title_ko=c.ko, level=c.level, hours=c.hours,
                                        roles=list(c.roles)) for c in catalog.courses if c.step == step]
        gaps.append(SkillGap(step=step, required=required[step], best=best, short=short,
                             holders=sorted(u for u, v in levels.items() if v == best and best > 0), courses=courses))
    return gaps


def staffing_cost(needs: list[NeedSpan], members: list[MemberSkills], salaries: dict[tuple[str, str], float],
                  currency: str) -> StaffingCost:
    """The plan's needs priced at the monthly cost of their role and level, and the team's monthly cost."""
    lines = []
    by_role: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for need in needs:
        days = len(working_days(need.start, need.due))
        months = need.percent / 100 * days / WORKING_DAYS_PER_MONTH
        rate = salaries[(need.role, need.level)]
        cost = months * rate
        lines.append(CostLine(need_id=need.need_id, task_id=need.task_id, task_title=need.task_title, role=need.role,
                              level=need.level, percent=need.percent, working_days=days,
                              person_months=round(months, 3), monthly_cost=rate, cost=round(cost)))
        by_role[need.role][0] += months
        by_role[need.role][1] += cost
    team = sum(m.capacity_percent / 100 * salaries[(m.role, m.level)] for m in members)
    return StaffingCost(currency=currency, total=round(sum(v[1] for v in by_role.values())),
                        by_role=[RoleCost(role=r, person_months=round(v[0], 3), cost=round(v[1]))
                                 for r, v in by_role.items()],
                        lines=lines, team_monthly_cost=round(team))


def headcount_from_gaps(gaps: GapMap) -> dict[str, float]:
    """People to hire per role for a standing team: the peak of each role's weekly need, rounded up."""
    return {row.role: float(math.ceil(row.peak_needed - 1e-9)) for row in gaps.rows if row.peak_needed > 0}


def _option(option: str, years: int, headcount: dict[str, float], salaries: dict[tuple[str, str], float],
            a: Assumptions) -> OptionCost:
    in_house = option == "in_house"
    team = headcount if in_house else {r: n * (1 - a.managed_covers.get(r, 0.0)) for r, n in headcount.items()}
    team = {r: round(n, 3) for r, n in team.items() if n > 0}
    rate = sum(n * salaries[(r, a.hire_level)] for r, n in team.items())
    seats = sum(team.values())
    rows, cumulative = [], 0.0
    for year in range(1, years + 1):
        first = year == 1
        staffed = 12 - a.hiring_lead_months if in_house and first else 12
        staff = rate * staffed
        hiring = rate * 12 * a.recruiting_fee_share * (1.0 if first else a.attrition_rate)
        tooling = seats * a.tooling_per_seat_month * staffed
        infrastructure = (a.infrastructure_in_house_month * 12 + (a.infrastructure_in_house_setup if first else 0.0)
                          if in_house else 0.0)
        fee = 0.0 if in_house else a.managed_fee_month * 12 + (a.managed_setup if first else 0.0)
        total = staff + hiring + tooling + infrastructure + fee
        cumulative += total
        rows.append(YearCost(year=year, staff=round(staff), hiring=round(hiring), tooling=round(tooling),
                             infrastructure=round(infrastructure), service_fee=round(fee), total=round(total),
                             cumulative=round(cumulative)))
    ttfv = a.hiring_lead_months + a.platform_build_months if in_house else a.managed_onboarding_months
    return OptionCost(option=option, years=rows, total=round(cumulative), time_to_first_value_months=ttfv,
                      headcount=team)


def build_vs_managed(headcount: dict[str, float], *, years: int, salaries: dict[tuple[str, str], float],
                     currency: str, assumptions: Assumptions, basis: str) -> BuildVsManaged:
    """Cost per year of hiring the team in house against a managed service that covers part of the roles.

    In house: staff paid from their hiring (after `hiring_lead_months` in year 1), a recruiting fee on a year's
    salary in year 1 and on the leavers (attrition) later, tooling per seat, own infrastructure (set-up in year 1).
    Managed: the roles the service does not cover, paid all year, with the same fees and tooling, and the service
    fee (set-up in year 1) that includes the infrastructure. Time to first value: hiring and building the platform
    in house, onboarding with the managed service.
    """
    in_house = _option("in_house", years, headcount, salaries, assumptions)
    managed = _option("managed", years, headcount, salaries, assumptions)
    return BuildVsManaged(years=years, currency=currency, basis=basis, in_house=in_house, managed=managed,
                          cheaper="managed" if managed.total < in_house.total else "in_house",
                          difference=round(in_house.total - managed.total))
