"""REST routes of the pmo domain: milestones, tasks, dependencies, baselines, the critical path and forecast."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession
from mlpilot.pmo import forecast, plan_templates, scheduling, service, workload
from mlpilot.pmo.plan_templates import PlanTemplateSpec, TemplateSummary
from mlpilot.pmo.schemas import (
    AssignmentRead,
    AssignmentsUpdate,
    BaselineCreate,
    BaselineRead,
    BaselineVariance,
    CriticalPathRead,
    DependencyCreate,
    DependencyRead,
    ForecastRead,
    MilestoneCreate,
    MilestoneRead,
    MilestoneUpdate,
    PlanFromTemplate,
    ScheduleSummary,
    TaskCreate,
    TaskRead,
    TaskUpdate,
    WeekLoad,
    WindowRead,
    WindowUpdate,
)
from mlpilot.projects.deps import ProjectAccess
from mlpilot.web import access

router = APIRouter(tags=["pmo"])
project_router = APIRouter(prefix="/projects/{project_id}")


@project_router.get("/milestones", response_model=list[MilestoneRead])
def list_milestones(project: ProjectAccess, session: DbSession) -> list[MilestoneRead]:
    return [MilestoneRead.model_validate(m) for m in service.list_milestones(session, project_id=project.id)]


@project_router.post("/milestones", response_model=MilestoneRead, status_code=201, dependencies=[access.Project.write])
def create_milestone(project_id: int, body: MilestoneCreate, session: DbSession, user: CurrentUser) -> MilestoneRead:
    milestone = service.create_milestone(session, project_id=project_id, user=user, **body.model_dump())
    return MilestoneRead.model_validate(milestone)


@project_router.patch("/milestones/{milestone_id}", response_model=MilestoneRead, dependencies=[access.Project.write])
def update_milestone(project_id: int, milestone_id: int, body: MilestoneUpdate, session: DbSession,
                     user: CurrentUser) -> MilestoneRead:
    milestone = service.update_milestone(session, project_id=project_id, milestone_id=milestone_id, user=user,
                                         **body.model_dump(exclude_unset=True))
    return MilestoneRead.model_validate(milestone)


@project_router.get("/tasks", response_model=list[TaskRead])
def list_tasks(project: ProjectAccess, session: DbSession) -> list[TaskRead]:
    return [TaskRead.model_validate(t) for t in service.list_tasks(session, project_id=project.id)]


@project_router.post("/tasks", response_model=TaskRead, status_code=201, dependencies=[access.Project.write])
def create_task(project_id: int, body: TaskCreate, session: DbSession, user: CurrentUser) -> TaskRead:
    task = service.create_task(session, project_id=project_id, user=user, **body.model_dump())
    return TaskRead.model_validate(task)


@project_router.patch("/tasks/{task_id}", response_model=TaskRead, dependencies=[access.Project.write])
def update_task(project_id: int, task_id: int, body: TaskUpdate, session: DbSession, user: CurrentUser) -> TaskRead:
    task = service.update_task(session, project_id=project_id, task_id=task_id, user=user,
                               **body.model_dump(exclude_unset=True))
    return TaskRead.model_validate(task)


@project_router.get("/schedule", response_model=ScheduleSummary)
def schedule_summary(project: ProjectAccess, session: DbSession) -> ScheduleSummary:
    return service.schedule_summary(session, project_id=project.id)


@project_router.delete("/milestones/{milestone_id}", status_code=204, dependencies=[access.Project.write])
def delete_milestone(project_id: int, milestone_id: int, session: DbSession, user: CurrentUser) -> None:
    service.delete_milestone(session, project_id=project_id, milestone_id=milestone_id, user=user)


@project_router.delete("/tasks/{task_id}", status_code=204, dependencies=[access.Project.write])
def delete_task(project_id: int, task_id: int, session: DbSession, user: CurrentUser) -> None:
    service.delete_task(session, project_id=project_id, task_id=task_id, user=user)


@project_router.get("/dependencies", response_model=list[DependencyRead])
def list_dependencies(project: ProjectAccess, session: DbSession) -> list[DependencyRead]:
    return [DependencyRead.model_validate(d) for d in scheduling.list_dependencies(session, project_id=project.id)]


@project_router.post("/dependencies", response_model=DependencyRead, status_code=201,
                     dependencies=[access.Project.write])
def add_dependency(project_id: int, body: DependencyCreate, session: DbSession, user: CurrentUser) -> DependencyRead:
    made = scheduling.add_dependency(session, project_id=project_id, user=user, **body.model_dump())
    return DependencyRead.model_validate(made)


@project_router.delete("/dependencies/{dependency_id}", status_code=204, dependencies=[access.Project.write])
def delete_dependency(project_id: int, dependency_id: int, session: DbSession, user: CurrentUser) -> None:
    scheduling.delete_dependency(session, project_id=project_id, user=user, dependency_id=dependency_id)


@project_router.get("/assignments", response_model=list[AssignmentRead])
def list_assignments(project: ProjectAccess, session: DbSession) -> list[AssignmentRead]:
    return [AssignmentRead.model_validate(a) for a in scheduling.list_assignments(session, project_id=project.id)]


@project_router.put("/tasks/{task_id}/assignments", response_model=list[AssignmentRead],
                    dependencies=[access.Project.write])
def set_assignments(project_id: int, task_id: int, body: AssignmentsUpdate, session: DbSession,
                    user: CurrentUser) -> list[AssignmentRead]:
    rows = scheduling.set_assignments(session, project_id=project_id, user=user, task_id=task_id,
                                      assignments=[(a.user_id, a.allocation) for a in body.assignments])
    return [AssignmentRead.model_validate(a) for a in rows]


@project_router.get("/workload", response_model=list[WeekLoad])
def member_workload(project: ProjectAccess, session: DbSession) -> list[WeekLoad]:
    return workload.member_workload(session, project_id=project.id)


@project_router.put("/plan-window", response_model=WindowRead, dependencies=[access.Project.write])
def set_window(project_id: int, body: WindowUpdate, session: DbSession, user: CurrentUser) -> WindowRead:
    window = scheduling.set_window(session, project_id=project_id, user=user, **body.model_dump())
    return WindowRead.model_validate(window)


def _rows(rows: list[scheduling.ScheduledRow]) -> list[dict[str, object]]:
    return [{"id": t.id, "title": t.title, "milestone_id": t.milestone_id, "status": t.status,
             "start": t.start.isoformat(), "finish": t.finish.isoformat(), "planned_start": t.planned_start.isoformat(),
             "planned_finish": t.planned_finish.isoformat(), "float_days": t.float_days, "critical": t.critical}
            for t in rows]


@project_router.get("/critical-path", response_model=CriticalPathRead)
def critical_path(project: ProjectAccess, session: DbSession) -> JSONResponse:
    """The schedule of every task, its float and the critical path (the `CriticalPathRead` shape).

    Serialised directly: validating 5,000 rows against the response model took longer than computing them.
    """
    result = scheduling.critical_path(session, project_id=project.id)
    finish = result.finish.isoformat() if result.finish else None
    return JSONResponse({"project_id": result.project_id, "finish": finish,
                         "critical_path": _rows(result.critical_path), "tasks": _rows(result.tasks)})


@project_router.get("/forecast", response_model=ForecastRead)
def schedule_forecast(project: ProjectAccess, session: DbSession) -> ForecastRead:
    return forecast.forecast(session, project_id=project.id)


@project_router.get("/baselines", response_model=list[BaselineRead])
def list_baselines(project: ProjectAccess, session: DbSession) -> list[BaselineRead]:
    return scheduling.list_baselines(session, project_id=project.id)


@project_router.post("/baselines", response_model=BaselineRead, status_code=201, dependencies=[access.Project.write])
def save_baseline(project_id: int, body: BaselineCreate, session: DbSession, user: CurrentUser) -> BaselineRead:
    return scheduling.save_baseline(session, project_id=project_id, user=user, name=body.name)


@project_router.get("/baseline-variance", response_model=BaselineVariance)
def baseline_variance(project: ProjectAccess, session: DbSession,
                      baseline_id: int | None = Query(None, ge=1, le=2**63 - 1)) -> BaselineVariance:
    return scheduling.compare_baseline(session, project_id=project.id, baseline_id=baseline_id)


@project_router.post("/plan-from-template", response_model=list[TaskRead], status_code=201,
                     dependencies=[access.Project.write])
def plan_from_template(project_id: int, body: PlanFromTemplate, session: DbSession,
                       user: CurrentUser) -> list[TaskRead]:
    tasks = plan_templates.create_plan(session, project_id=project_id, user=user, key=body.template_key,
                                       start_date=body.start_date, locale=body.locale)
    return [TaskRead.model_validate(t) for t in tasks]


router.include_router(project_router)


@router.get("/plan-templates", response_model=list[TemplateSummary], dependencies=[access.SignedIn])
def list_plan_templates(session: DbSession) -> list[TemplateSummary]:
    return plan_templates.list_templates(session)


@router.get("/plan-templates/{key}", response_model=PlanTemplateSpec, dependencies=[access.SignedIn])
def get_plan_template(key: Annotated[str, Path(min_length=1, max_length=80)], session: DbSession) -> PlanTemplateSpec:
    return plan_templates.get_template(session, key=key)


@router.post("/plan-templates", response_model=PlanTemplateSpec, dependencies=[access.AdminOnly])
def save_plan_template(body: PlanTemplateSpec, session: DbSession, user: CurrentUser) -> PlanTemplateSpec:
    """Upload or replace a template (it overrides the packaged one of the same key)."""
    return plan_templates.save_template(session, user=user, spec=body)
