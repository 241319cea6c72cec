"""Dependencies, critical path, plan window, assignments, workload, baselines and the forecast through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.pmo import forecast, scheduling, service, workload
from mlpilot.pmo.models import Task
from mlpilot.projects import service as projects_service
from mlpilot.projects.models import Project
from tests.projects.factories import make_project, make_user

D = dt.date.fromisoformat


def chain(session: Session, project: Project, owner: User) -> list[Task]:
    """design (5 d) → build (10 d, lag 2) → test (3 d); docs (2 d) → test."""
    def task(title: str, start: str, due: str) -> Task:
        return service.create_task(session, project_id=project.id, user=owner, title=title, start_date=D(start),
                                   due_date=D(due))
    design = task("Design", "2026-03-02", "2026-03-06")
    build = task("Build", "2026-03-09", "2026-03-18")
    docs = task("Docs", "2026-03-02", "2026-03-03")
    check = task("Test", "2026-03-19", "2026-03-21")
    for before, after, lag in ((design, build, 2), (build, check, 0), (docs, check, 0)):
        scheduling.add_dependency(session, project_id=project.id, user=owner, predecessor_id=before.id,
                                  successor_id=after.id, lag_days=lag)
    return [design, build, docs, check]


def test_dependencies_and_critical_path(session: Session) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    design, build, docs, check = chain(session, project, owner)
    result = scheduling.critical_path(session, project_id=project.id)
    assert [t.title for t in result.critical_path] == ["Design", "Build", "Test"]
    by_title = {t.title: t for t in result.tasks}
    # Build waits for Design (ends 03-06) + 2 days of lag: it starts on 03-09 as planned.
    assert by_title["Build"].start == D("2026-03-09") and by_title["Build"].finish == D("2026-03-18")
    assert result.finish == D("2026-03-21")
    assert by_title["Docs"].float_days == 15 and not by_title["Docs"].critical
    # Design slips by three days: Build and Test are pushed, the finish moves.
    service.update_task(session, project_id=project.id, task_id=design.id, user=owner, due_date=D("2026-03-09"))
    moved = scheduling.critical_path(session, project_id=project.id)
    assert moved.finish == D("2026-03-24")
    loop = r"cycle: '(Test|Build)' \(task \d+\) → '(Build|Test)' \(task \d+\) → '(Test|Build)'"
    with pytest.raises(InvalidInput, match=loop):
        scheduling.add_dependency(session, project_id=project.id, user=owner, predecessor_id=check.id,
                                  successor_id=build.id)
    with pytest.raises(InvalidInput, match="cannot depend on itself"):
        scheduling.add_dependency(session, project_id=project.id, user=owner, predecessor_id=docs.id,
                                  successor_id=docs.id)
    with pytest.raises(InvalidInput, match="already depends"):
        scheduling.add_dependency(session, project_id=project.id, user=owner, predecessor_id=docs.id,
                                  successor_id=check.id)
    other = make_project(session, user=owner)
    with pytest.raises(NotFound):
        scheduling.add_dependency(session, project_id=other.id, user=owner, predecessor_id=docs.id,
                                  successor_id=check.id)
    service.delete_task(session, project_id=project.id, task_id=build.id, user=owner)
    assert len(scheduling.list_dependencies(session, project_id=project.id)) == 1
    assert [t.title for t in scheduling.critical_path(session, project_id=project.id).critical_path][-1] == "Test"


def test_plan_window_refuses_dates_outside_the_project(session: Session) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    scheduling.set_window(session, project_id=project.id, user=owner, start_date=D("2026-03-01"),
                          end_date=D("2026-06-30"))
    with pytest.raises(InvalidInput, match="'Early': start_date 2026-02-20 is before the project starts"):
        service.create_task(session, project_id=project.id, user=owner, title="Early", start_date=D("2026-02-20"),
                            due_date=D("2026-03-05"))
    task = service.create_task(session, project_id=project.id, user=owner, title="Inside",
                               start_date=D("2026-03-02"), due_date=D("2026-03-05"))
    with pytest.raises(InvalidInput, match="after the project ends"):
        service.update_task(session, project_id=project.id, task_id=task.id, user=owner, due_date=D("2026-07-02"))
    with pytest.raises(InvalidInput, match="'Inside'"):
        scheduling.set_window(session, project_id=project.id, user=owner, start_date=D("2026-03-03"), end_date=None)


def test_assignments_and_weekly_workload(session: Session) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    stranger = make_user(session)
    first = service.create_task(session, project_id=project.id, user=owner, title="A", start_date=D("2026-03-02"),
                                due_date=D("2026-03-06"), effort_days=4)
    second = service.create_task(session, project_id=project.id, user=owner, title="B", start_date=D("2026-03-05"),
                                 due_date=D("2026-03-10"))
    with pytest.raises(InvalidInput, match=f"user {stranger.id} is not a member"):
        scheduling.set_assignments(session, project_id=project.id, user=owner, task_id=first.id,
                                   assignments=[(stranger.id, 50)])
    with pytest.raises(InvalidInput, match="out of range"):
        scheduling.set_assignments(session, project_id=project.id, user=owner, task_id=first.id,
                                   assignments=[(owner.id, 150)])
    scheduling.set_assignments(session, project_id=project.id, user=owner, task_id=first.id,
                               assignments=[(owner.id, 80)])
    scheduling.set_assignments(session, project_id=project.id, user=owner, task_id=second.id,
                               assignments=[(owner.id, 50)])
    rows = {r.week: r for r in workload.member_workload(session, project_id=project.id)}
    assert set(rows) == {"2026-W10", "2026-W11"}
    # W10: Mon-Wed 80 %, Thu-Fri 130 % → mean 100 %, peak 130 % → over-allocated.
    assert rows["2026-W10"].load_percent == 100.0 and rows["2026-W10"].peak_percent == 130
    assert rows["2026-W10"].over_allocated and rows["2026-W10"].tasks == [first.id, second.id]
    assert not rows["2026-W11"].over_allocated and rows["2026-W11"].load_percent == 20.0


def test_baseline_and_variance(session: Session) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    with pytest.raises(NotFound, match="no baseline"):
        scheduling.compare_baseline(session, project_id=project.id)
    design, build, _docs, check = chain(session, project, owner)
    saved = scheduling.save_baseline(session, project_id=project.id, user=owner, name="Signed plan")
    assert saved.tasks == 4
    service.update_task(session, project_id=project.id, task_id=build.id, user=owner, due_date=D("2026-03-25"))
    service.complete_task(session, project_id=project.id, task_id=design.id, user=owner, completed_on=D("2026-03-05"))
    late = service.create_task(session, project_id=project.id, user=owner, title="Extra", start_date=D("2026-03-10"),
                               due_date=D("2026-03-11"))
    variance = {v.task_id: v for v in scheduling.compare_baseline(session, project_id=project.id).tasks}
    assert variance[build.id].finish_variance_days == 7 and variance[build.id].start_variance_days == 0
    assert variance[design.id].finish_variance_days == -1
    assert variance[late.id].baseline_finish is None and variance[check.id].finish_variance_days == 0
    service.delete_task(session, project_id=project.id, task_id=check.id, user=owner)
    assert scheduling.compare_baseline(session, project_id=project.id, baseline_id=saved.id).removed_tasks == ["Test"]


def test_forecast_uses_the_prior_then_the_teams_pace(session: Session) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    milestone = service.create_milestone(session, project_id=project.id, user=owner, name="Pilot",
                                         start_date=D("2026-03-02"), due_date=D("2026-03-21"))
    tasks = chain(session, project, owner)
    for t in tasks:
        service.update_task(session, project_id=project.id, task_id=t.id, user=owner, milestone_id=milestone.id)
    today = D("2026-03-01")
    prior = forecast.forecast(session, project_id=project.id, today=today, draws=4000)
    assert prior.source == "prior" and prior.remaining_tasks == 4
    assert prior.project.p50 is not None and prior.project.p85 is not None
    # The prior's median multiplier is 1.2: the 20-day plan is expected to end after its planned 03-21.
    assert D("2026-03-21") < prior.project.p50 <= prior.project.p85
    assert prior.milestones[0].p85 == prior.project.p85 and 0.5 < (prior.milestones[0].late_probability or 0)
    assert sum(count for _day, count in prior.histogram) == 4000
    # Three finished tasks, each on time: the team's measured pace replaces the prior, nothing is late.
    for t in tasks[:3]:
        service.complete_task(session, project_id=project.id, task_id=t.id, user=owner, completed_on=t.due_date)
    on_pace = forecast.forecast(session, project_id=project.id, today=D("2026-03-19"), draws=4000)
    assert on_pace.source == "history" and on_pace.finished_tasks == 3
    assert on_pace.project.p50 == on_pace.project.p85 == D("2026-03-21")
    # The last task slips (it is open and running past its due day): the forecast moves past today.
    service.update_task(session, project_id=project.id, task_id=tasks[3].id, user=owner, status="in_progress")
    slipped = forecast.forecast(session, project_id=project.id, today=D("2026-03-28"), draws=4000)
    assert slipped.project.p50 is not None and slipped.project.p50 >= D("2026-03-28")
    assert slipped.project.late_probability == 1.0
    assert projects_service.get_project(session, project_id=project.id).id == slipped.project_id
