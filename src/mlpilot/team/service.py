"""Use cases of the team domain: member profiles (role, level, capacity, skills), the roles each plan task needs,
the salary table, and the computed gap map, skill gaps, staffing cost and build-in-house vs managed comparison.

Tasks, their dates and the members come from the pmo and projects services; the figures are computed on every
read by `team.compute` (pure), so they follow the plan as it changes.
"""

from __future__ import annotations

import math

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import Role, User
from mlpilot.accounts.service import require_role
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.pmo import plan_templates
from mlpilot.pmo import service as pmo_service
from mlpilot.pmo import workload as pmo_workload
from mlpilot.projects import service as projects_service
from mlpilot.team import compute
from mlpilot.team.catalog import Catalog, load_catalog
from mlpilot.team.compute import BuildVsManaged, GapMap, MemberSkills, NeedSpan, SkillGap, StaffingCost
from mlpilot.team.models import MemberProfile, SalaryEntry, TaskNeed
from mlpilot.team.schemas import (
    NeedCreate,
    ProfileRead,
    ProfileSet,
    SalaryRow,
    SalaryTable,
    SalaryTableIn,
    TeamOverview,
)

MAX_NEEDS = 2_000
MAX_YEARS = 3
STEP_TEMPLATE = "ai-7-step"


def _check_key(value: str, known: tuple[str, ...], field: str) -> str:
    if value not in known:
        raise InvalidInput(f"{field} {value!r} is not known; expected one of: {', '.join(known)}.")
    return value


# --- member profiles -----------------------------------------------------------------------------------------

def list_profiles(session: Session, *, project_id: int) -> list[ProfileRead]:
    """Every member of the project with their role, level, capacity and skills (None until set)."""
    projects_service.get_project(session, project_id=project_id)
    profiles = {p.user_id: p for p in session.scalars(select(MemberProfile)
                                                      .where(MemberProfile.project_id == project_id))}
    out = []
    for member, user in projects_service.list_members(session, project_id=project_id):
        p = profiles.get(user.id)
        out.append(ProfileRead(user_id=user.id, username=user.username, responsibility=member.responsibility,
                               role=p.role if p else None, level=p.level if p else None,
                               capacity_percent=p.capacity_percent if p else None,
                               skills=dict(p.skills or {}) if p else {}))
    return out


def set_profile(session: Session, *, project_id: int, user: User, user_id: int, data: ProfileSet) -> ProfileRead:
    """Set a member's role, level, capacity and skills; only members of the project have a profile."""
    catalog = load_catalog()
    _check_key(data.role, catalog.role_keys, "role")
    _check_key(data.level, catalog.level_keys, "level")
    for step, level in data.skills.items():
        _check_key(step, catalog.step_keys, "skills: step")
        if not 0 <= level <= 3:
            raise InvalidInput(f"skills.{step}: {level} is out of range; expected 0 (none) to 3 (expert).")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        member = next((m for m, u in projects_service.list_members(session, project_id=project_id)
                       if u.id == user_id), None)
        if member is None:
            raise NotFound(f"User {user_id} is not a member of project {project_id}; add them to the project first.")
        profile = session.scalar(select(MemberProfile).where(MemberProfile.member_id == member.id))
        if profile is None:
            profile = MemberProfile(member_id=member.id, project_id=project_id, user_id=user_id)
            session.add(profile)
        profile.role, profile.level, profile.capacity_percent = data.role, data.level, data.capacity_percent
        profile.skills = {s: int(data.skills.get(s, 0)) for s in catalog.step_keys}
        profile.updated_at = utcnow()
        session.flush()
    return next(p for p in list_profiles(session, project_id=project_id) if p.user_id == user_id)


def _members(session: Session, project_id: int) -> list[MemberSkills]:
    return [MemberSkills(user_id=p.user_id, username=p.username, role=p.role, level=p.level or "mid",
                         capacity_percent=p.capacity_percent or 0, skills=p.skills)
            for p in list_profiles(session, project_id=project_id) if p.role is not None]


# --- what the plan needs -------------------------------------------------------------------------------------

def list_needs(session: Session, *, project_id: int) -> list[TaskNeed]:
    """The roles the project's tasks need, by task then role."""
    stmt = select(TaskNeed).where(TaskNeed.project_id == project_id).order_by(TaskNeed.task_id, TaskNeed.id)
    return list(session.scalars(stmt))


def set_need(session: Session, *, project_id: int, user: User, data: NeedCreate) -> TaskNeed:
    """State that a task needs a role (share of a person, level, AI step); a second call for the role replaces it."""
    catalog = load_catalog()
    _check_key(data.role, catalog.role_keys, "role")
    _check_key(data.level, catalog.level_keys, "level")
    if data.step is not None:
        _check_key(data.step, catalog.step_keys, "step")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        task = pmo_service.get_task(session, project_id=project_id, task_id=data.task_id)
        need = session.scalar(select(TaskNeed).where(TaskNeed.task_id == task.id, TaskNeed.role == data.role))
        if need is None:
            if len(list_needs(session, project_id=project_id)) >= MAX_NEEDS:
                raise InvalidInput(f"The plan already states {MAX_NEEDS} needs, the most a project may hold.")
            need = TaskNeed(project_id=project_id, task_id=task.id, role=data.role)
            session.add(need)
        need.level, need.percent = data.level, data.percent
        need.step = data.step or step_of_title(task.title)
        session.flush()
    return need


def delete_need(session: Session, *, project_id: int, user: User, need_id: int) -> None:
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        need = session.get(TaskNeed, need_id)
        if need is None or need.project_id != project_id:
            raise NotFound(f"Need {need_id} does not exist in project {project_id}.")
        session.delete(need)


def step_of_title(title: str) -> str | None:
    """The AI step of a task created from the 7-step plan template (matched on its ko or en name)."""
    template = plan_templates.packaged_templates().get(STEP_TEMPLATE)
    if template is None:
        return None
    wanted = title.strip().casefold()
    for step in load_catalog().steps:
        for task in template.tasks:
            if task.key == step.template_task and wanted in (task.name.en.casefold(), task.name.ko.casefold()):
                return step.key
    return None


def suggest_needs(session: Session, *, project_id: int, user: User) -> list[TaskNeed]:
    """Give every task of an AI step that states no need yet the catalog's default roles for its step."""
    catalog = load_catalog()
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        stated = {n.task_id for n in list_needs(session, project_id=project_id)}
        added = []
        for task in pmo_service.list_tasks(session, project_id=project_id):
            step = step_of_title(task.title)
            if step is None or task.id in stated:
                continue
            for default in catalog.step(step).needs:
                added.append(TaskNeed(project_id=project_id, task_id=task.id, role=default.role,
                                      level=default.level, percent=default.percent, step=step))
        session.add_all(added)
        session.flush()
    return added


def _spans(session: Session, project_id: int) -> list[NeedSpan]:
    tasks = {t.id: t for t in pmo_service.list_tasks(session, project_id=project_id)}
    return [NeedSpan(need_id=n.id, task_id=n.task_id, task_title=tasks[n.task_id].title, step=n.step, role=n.role,
                     level=n.level, percent=n.percent, start=tasks[n.task_id].start_date,
                     due=tasks[n.task_id].due_date)
            for n in list_needs(session, project_id=project_id) if n.task_id in tasks]


# --- the salary table ----------------------------------------------------------------------------------------

def salary_table(session: Session) -> SalaryTable:
    """The admin's salary table, or the shipped defaults (KRW) while there is none."""
    catalog = load_catalog()
    rows = {(r.role, r.level): r for r in session.scalars(select(SalaryEntry))}
    if not rows:
        return SalaryTable(currency=catalog.currency, source="package",
                           entries=[SalaryRow(role=r, level=v, monthly_cost=catalog.salaries[(r, v)])
                                    for r in catalog.role_keys for v in catalog.level_keys])
    currency = next(iter(rows.values())).currency
    return SalaryTable(currency=currency, source="custom",
                       entries=[SalaryRow(role=r, level=v, monthly_cost=rows[(r, v)].monthly_cost
                                          if (r, v) in rows else catalog.salaries[(r, v)])
                                for r in catalog.role_keys for v in catalog.level_keys])


def check_salary_table(data: SalaryTableIn, catalog: Catalog) -> dict[tuple[str, str], float]:
    """Every role × level once, each a monthly cost of 0 or more; else InvalidInput naming the entries."""
    found: dict[tuple[str, str], float] = {}
    problems: list[str] = []
    for i, cell in enumerate(data.entries):
        where = f"entries[{i}] ({cell.role}/{cell.level})"
        if cell.role not in catalog.role_keys or cell.level not in catalog.level_keys:
            problems.append(f"{where}: unknown role or level; roles are {', '.join(catalog.role_keys)} and "
                            f"levels {', '.join(catalog.level_keys)}")
        elif (cell.role, cell.level) in found:
            problems.append(f"{where}: given twice")
        elif cell.monthly_cost is None:
            problems.append(f"{where}: monthly_cost is missing")
        elif cell.monthly_cost < 0 or not math.isfinite(cell.monthly_cost):
            problems.append(f"{where}: monthly_cost {cell.monthly_cost:g} is negative; a monthly cost is 0 or more")
        else:
            found[(cell.role, cell.level)] = float(cell.monthly_cost)
    missing = [f"{r}/{v}" for r in catalog.role_keys for v in catalog.level_keys
               if (r, v) not in found and not any(c.role == r and c.level == v for c in data.entries)]
    if missing:
        problems.append(f"missing entries for {', '.join(missing)}")
    if problems:
        raise InvalidInput("Salary table refused: " + "; ".join(problems) + ".")
    return found


def save_salary_table(session: Session, *, user: User, data: SalaryTableIn) -> SalaryTable:
    """Replace the salary table (admins only); a table with a missing or negative entry is refused whole."""
    require_role(user, Role.admin)
    found = check_salary_table(data, load_catalog())
    with unit_of_work(session):
        session.execute(delete(SalaryEntry))
        session.add_all([SalaryEntry(role=r, level=v, monthly_cost=cost, currency=data.currency,
                                     updated_by_id=user.id, updated_at=utcnow()) for (r, v), cost in found.items()])
        session.flush()
    return salary_table(session)


def reset_salary_table(session: Session, *, user: User) -> SalaryTable:
    """Go back to the shipped default salaries (admins only)."""
    require_role(user, Role.admin)
    with unit_of_work(session):
        session.execute(delete(SalaryEntry))
    return salary_table(session)


# --- computed views ------------------------------------------------------------------------------------------

def gap_map(session: Session, *, project_id: int) -> GapMap:
    """Needed vs available people per role and week of the plan."""
    projects_service.get_project(session, project_id=project_id)
    members = _members(session, project_id)
    role_of = {m.user_id: m.role for m in members}
    assigned: dict[tuple[str, str], float] = {}
    for load in pmo_workload.member_workload(session, project_id=project_id):  # the pmo's weekly workload
        if load.user_id in role_of:
            key = (role_of[load.user_id], load.week)
            assigned[key] = assigned.get(key, 0.0) + load.load_percent / 100
    return compute.gap_map(_spans(session, project_id), members, load_catalog().role_keys, assigned)


def skill_gaps(session: Session, *, project_id: int) -> list[SkillGap]:
    """Per AI step of the plan: required vs best skill level, with training suggestions where short."""
    projects_service.get_project(session, project_id=project_id)
    return compute.skill_gaps(_spans(session, project_id), _members(session, project_id), load_catalog())


def staffing_cost(session: Session, *, project_id: int) -> StaffingCost:
    """The plan's needs priced with the salary table, and the profiled team's monthly cost."""
    projects_service.get_project(session, project_id=project_id)
    table = salary_table(session)
    return compute.staffing_cost(_spans(session, project_id), _members(session, project_id), table.rates(),
                                 table.currency)


def _check_years(years: int) -> int:
    if not 1 <= years <= MAX_YEARS:
        raise InvalidInput(f"years must be 1–{MAX_YEARS}; got {years}.")
    return years


def compare_build_vs_managed(session: Session, *, project_id: int, years: int = 3,
                             gaps: GapMap | None = None) -> BuildVsManaged:
    """Build the team in house or use a managed service, over `years` (1–3): cost per year and time to value."""
    _check_years(years)
    catalog = load_catalog()
    gaps = gaps or gap_map(session, project_id=project_id)
    headcount = compute.headcount_from_gaps(gaps)
    basis = "plan"
    if not headcount:
        headcount, basis = {r: float(n) for r, n in catalog.assumptions.reference_team.items()}, "reference"
    table = salary_table(session)
    return compute.build_vs_managed(headcount, years=years, salaries=table.rates(), currency=table.currency,
                                    assumptions=catalog.assumptions, basis=basis)


def team_overview(session: Session, *, project_id: int, years: int = 3) -> TeamOverview:
    """The team page in one read: members, gap map, skill gaps with courses, cost and the comparison."""
    _check_years(years)
    projects_service.get_project(session, project_id=project_id)
    members = _members(session, project_id)
    gaps = gap_map(session, project_id=project_id)
    unprofiled = [p.username for p in list_profiles(session, project_id=project_id) if p.role is None]
    return TeamOverview(project_id=project_id, members=members, unprofiled=unprofiled, gaps=gaps,
                        skills=skill_gaps(session, project_id=project_id),
                        cost=staffing_cost(session, project_id=project_id),
                        comparison=compare_build_vs_managed(session, project_id=project_id, years=years, gaps=gaps))

