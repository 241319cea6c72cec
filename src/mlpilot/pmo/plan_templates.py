"""Plan templates as data: JSON files shipped in pmo/templates/, overridable by admins in the database.

A template lists milestones and tasks (ko/en names, durations in days, finish-to-start dependencies with lag).
Applying it to a project from a start date schedules the tasks by a forward pass of the engine and creates the
milestones (spanning their tasks), the tasks and the dependencies in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import Role, User
from mlpilot.accounts.service import require_role
from mlpilot.core.db import unit_of_work
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.pmo import engine
from mlpilot.pmo.models import Milestone, PlanTemplate, PlanWindow, Task, TaskDependency
from mlpilot.projects import service as projects_service
from mlpilot.projects.models import Stage

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
MAX_TEMPLATE_TASKS = 500
KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=2_000)


class Names(Strict):
    en: str = Field(min_length=1, max_length=300)
    ko: str = Field(min_length=1, max_length=300)


class TemplateDependency(Strict):
    task: str = Field(pattern=KEY_PATTERN)
    lag_days: int = Field(0, ge=-365, le=365)


class TemplateMilestone(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: Names
    stage: Stage | None = None


class TemplateTask(Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: Names
    duration_days: int = Field(ge=1, le=3650)
    effort_days: float | None = Field(None, ge=0, le=100_000)
    milestone: str | None = Field(None, pattern=KEY_PATTERN)
    depends_on: list[str | TemplateDependency] = Field(default_factory=list, max_length=50)

    def links(self) -> list[TemplateDependency]:
        return [d if isinstance(d, TemplateDependency) else TemplateDependency(task=d) for d in self.depends_on]


class PlanTemplateSpec(Strict):
    """A plan template; unknown fields anywhere are refused with their location."""

    key: str = Field(pattern=KEY_PATTERN)
    name: Names
    description: Names | None = None
    milestones: list[TemplateMilestone] = Field(default_factory=list, max_length=100)
    tasks: list[TemplateTask] = Field(min_length=1, max_length=MAX_TEMPLATE_TASKS)

    @model_validator(mode="after")
    def _references(self) -> PlanTemplateSpec:
        tasks = [t.key for t in self.tasks]
        milestones = [m.key for m in self.milestones]
        for kind, keys in (("task", tasks), ("milestone", milestones)):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            if twice:
                raise ValueError(f"{kind} key {twice[0]!r} is used twice")
        for i, task in enumerate(self.tasks):
            if task.milestone is not None and task.milestone not in milestones:
                raise ValueError(f"tasks[{i}].milestone: {task.milestone!r} is not a milestone of the template")
            for link in task.links():
                if link.task not in tasks:
                    raise ValueError(f"tasks[{i}].depends_on: {link.task!r} is not a task of the template")
        index = {k: i for i, k in enumerate(tasks)}
        links = [(index[link.task], i, link.lag_days) for i, t in enumerate(self.tasks) for link in t.links()]
        try:
            engine.levels(len(tasks), np.array([a for a, _b, _l in links], dtype=np.int64),
                          np.array([b for _a, b, _l in links], dtype=np.int64), np.zeros(len(links)))
        except engine.DependencyCycle as exc:
            loop = " → ".join(tasks[i] for i in [*exc.cycle, exc.cycle[0]])
            raise ValueError(f"tasks.depends_on form a cycle: {loop}") from None
        return self


class TemplateSummary(BaseModel):
    key: str
    name: Names
    description: Names | None
    tasks: int
    milestones: int
    source: str = Field(description="'package' (shipped) or 'custom' (uploaded by an admin).")


def parse_template(data: object, *, where: str) -> PlanTemplateSpec:
    """Validate a template; raise InvalidInput naming the first bad field (e.g. `tasks.2.durations: …`)."""
    try:
        return PlanTemplateSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "template"
        reason = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise InvalidInput(f"{where}: {field}: {reason}.",
                           errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]) from None


@lru_cache(maxsize=1)
def packaged_templates() -> dict[str, PlanTemplateSpec]:
    """The templates shipped with the package, by key."""
    out = {}
    for path in sorted(TEMPLATE_DIR.glob("*.json")):
        spec = parse_template(json.loads(path.read_text(encoding="utf-8")), where=path.name)
        out[spec.key] = spec
    return out


def _custom(session: Session) -> dict[str, PlanTemplateSpec]:
    rows = session.scalars(select(PlanTemplate).order_by(PlanTemplate.key))
    return {r.key: parse_template(json.loads(r.body), where=f"template {r.key}") for r in rows}


def list_templates(session: Session) -> list[TemplateSummary]:
    """Every template: the packaged ones, each replaced by an admin's upload of the same key."""
    custom = _custom(session)
    merged = {**packaged_templates(), **custom}
    return [TemplateSummary(key=k, name=s.name, description=s.description, tasks=len(s.tasks),
                            milestones=len(s.milestones), source="custom" if k in custom else "package")
            for k, s in sorted(merged.items())]


def get_template(session: Session, *, key: str) -> PlanTemplateSpec:
    row = session.get(PlanTemplate, key)
    if row is not None:
        return parse_template(json.loads(row.body), where=f"template {key}")
    spec = packaged_templates().get(key)
    if spec is None:
        known = ", ".join(t.key for t in list_templates(session))
        raise NotFound(f"Plan template {key!r} does not exist; known templates: {known}.")
    return spec


def save_template(session: Session, *, user: User, spec: PlanTemplateSpec) -> PlanTemplateSpec:
    """Store an admin's template, replacing the packaged (or earlier uploaded) one of the same key."""
    require_role(user, Role.admin)
    with unit_of_work(session):
        row = session.get(PlanTemplate, spec.key) or PlanTemplate(key=spec.key)
        row.body = spec.model_dump_json(exclude_none=True)
        row.updated_by_id = user.id
        row.updated_at = dt.datetime.now(dt.UTC)
        session.add(row)
        session.flush()
    return spec


def schedule_template(spec: PlanTemplateSpec, start: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(start, due) of every task of the template when the plan starts on `start`: a forward pass."""
    index = {t.key: i for i, t in enumerate(spec.tasks)}
    links = [(index[link.task], i, link.lag_days) for i, t in enumerate(spec.tasks) for link in t.links()]
    pred = np.array([a for a, _b, _l in links], dtype=np.int64)
    succ = np.array([b for _a, b, _l in links], dtype=np.int64)
    lag = np.array([float(lag) for _a, _b, lag in links])
    n = len(spec.tasks)
    lv = engine.levels(n, pred, succ, lag)
    es, ef = engine.forward(lv, np.array([t.duration_days for t in spec.tasks], dtype=np.float64), np.zeros(n))
    return [(start + dt.timedelta(days=int(es[i])), start + dt.timedelta(days=int(ef[i]) - 1)) for i in range(n)]


def create_plan(session: Session, *, project_id: int, user: User, key: str, start_date: dt.date,
                locale: str = "en") -> list[Task]:
    """Create the template's milestones, tasks and dependencies in an empty project plan starting on `start_date`."""
    if locale not in ("en", "ko"):
        raise InvalidInput(f"locale {locale!r} is not supported; expected en or ko.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        spec = get_template(session, key=key)
        existing = session.scalar(select(func.count(Task.id)).where(Task.project_id == project_id))
        if existing:
            raise Conflict(f"Project {project_id} already has {existing} tasks; a template starts an empty plan. "
                           "Delete the tasks first or add the steps by hand.")
        dates = schedule_template(spec, start_date)
        window = session.get(PlanWindow, project_id)
        last = max(due for _start, due in dates)
        if window is not None and window.end_date is not None and last > window.end_date:
            raise InvalidInput(f"Template {key!r} from {start_date.isoformat()} ends on {last.isoformat()}, after the "
                               f"project ends ({window.end_date.isoformat()}); start earlier or extend the project.")
        spans: dict[str, list[int]] = {}
        for i, task in enumerate(spec.tasks):
            if task.milestone:
                spans.setdefault(task.milestone, []).append(i)
        milestones: dict[str, Milestone] = {}
        for position, m in enumerate(spec.milestones, start=1):
            members = spans.get(m.key) or [len(spec.tasks) - 1]
            milestones[m.key] = Milestone(
                project_id=project_id, name=getattr(m.name, locale), stage=m.stage, position=position,
                start_date=min(dates[i][0] for i in members), due_date=max(dates[i][1] for i in members))
        session.add_all(milestones.values())
        session.flush()
        tasks = [Task(project_id=project_id, title=getattr(t.name, locale), start_date=dates[i][0],
                      due_date=dates[i][1], effort_days=t.effort_days,
                      milestone_id=milestones[t.milestone].id if t.milestone else None)
                 for i, t in enumerate(spec.tasks)]
        session.add_all(tasks)
        session.flush()
        by_key = {t.key: tasks[i] for i, t in enumerate(spec.tasks)}
        session.add_all([TaskDependency(project_id=project_id, predecessor_id=by_key[link.task].id,
                                        successor_id=tasks[i].id, lag_days=link.lag_days)
                         for i, t in enumerate(spec.tasks) for link in t.links()])
        window = window or PlanWindow(project_id=project_id, start_date=start_date)
        window.start_date = min(window.start_date, start_date)
        window.template_key = spec.key
        session.add(window)
        session.flush()
    return tasks
