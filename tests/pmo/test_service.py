"""Milestones and tasks through the service: validation, completion and the schedule summary."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.pmo import service
from mlpilot.projects import service as projects_service
from tests.projects.factories import make_project, make_user

D = dt.date.fromisoformat


def test_plan_with_slippage(session: Session) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    kickoff = service.create_milestone(session, project_id=project.id, user=owner, name="Kick-off", stage="discover",
                                       start_date=D("2026-01-01"), due_date=D("2026-01-10"))
    pilot = service.create_milestone(session, project_id=project.id, user=owner, name="Pilot", stage="build",
                                     start_date=D("2026-01-11"), due_date=D("2026-03-01"))
    assert [m.position for m in service.list_milestones(session, project_id=project.id)] == [1, 2]
    service.complete_milestone(session, project_id=project.id, milestone_id=kickoff.id, user=owner,
                               completed_on=D("2026-01-14"))
    task = service.create_task(session, project_id=project.id, user=owner, title="Collect data", milestone_id=pilot.id,
                               owner_id=owner.id, start_date=D("2026-01-11"), due_date=D("2026-01-31"))
    assert task.status == "todo" and task.completed_on is None
    service.update_task(session, project_id=project.id, task_id=task.id, user=owner, status="in_progress")
    summary = service.schedule_summary(session, project_id=project.id, today=D("2026-02-05"))
    assert (summary.total, summary.done, summary.late, summary.done_late) == (3, 1, 1, 1)
    assert summary.worst_slip_days == 5 and summary.worst_item == "Collect data"
    assert summary.next_milestone is not None and summary.next_milestone["name"] == "Pilot"
    done = service.complete_task(session, project_id=project.id, task_id=task.id, user=owner)
    assert done.status == "done" and done.completed_on == dt.date.today()
    reopened = service.update_task(session, project_id=project.id, task_id=task.id, user=owner, status="blocked")
    assert reopened.completed_on is None


def test_due_before_start_is_rejected(session: Session) -> None:
    owner = make_user(session)
    project = make_project(session, user=owner)
    with pytest.raises(InvalidInput, match="due_date 2026-01-01 is before start_date 2026-01-05"):
        service.create_task(session, project_id=project.id, user=owner, title="Backwards",
                            start_date=D("2026-01-05"), due_date=D("2026-01-01"))
    with pytest.raises(InvalidInput, match="due_date"):
        service.create_milestone(session, project_id=project.id, user=owner, name="Backwards",
                                 start_date=D("2026-01-05"), due_date=D("2026-01-01"))
    milestone = service.create_milestone(session, project_id=project.id, user=owner, name="Ok",
                                         start_date=D("2026-01-01"), due_date=D("2026-01-05"))
    with pytest.raises(InvalidInput, match="due_date"):
        service.update_milestone(session, project_id=project.id, milestone_id=milestone.id, user=owner,
                                 due_date=D("2025-12-01"))
    assert service.list_tasks(session, project_id=project.id) == []
    assert service.get_milestone(session, project_id=project.id, milestone_id=milestone.id).due_date == D("2026-01-05")


def test_owner_must_be_a_member(session: Session) -> None:
    owner = make_user(session)
    outsider = make_user(session)
    project = make_project(session, user=owner)
    with pytest.raises(InvalidInput, match=f"owner_id {outsider.id} is not a member"):
        service.create_task(session, project_id=project.id, user=owner, title="T", owner_id=outsider.id,
                            start_date=D("2026-01-01"), due_date=D("2026-01-02"))
    projects_service.add_member(session, project_id=project.id, user=owner, username=outsider.username)
    task = service.create_task(session, project_id=project.id, user=owner, title="T", owner_id=outsider.id,
                               start_date=D("2026-01-01"), due_date=D("2026-01-02"))
    assert task.owner_id == outsider.id


def test_items_of_another_project_are_not_found(session: Session) -> None:
    owner = make_user(session)
    first, second = make_project(session, user=owner), make_project(session, user=owner)
    milestone = service.create_milestone(session, project_id=first.id, user=owner, name="M",
                                         start_date=D("2026-01-01"), due_date=D("2026-01-02"))
    with pytest.raises(NotFound, match=f"Milestone {milestone.id} does not exist in project {second.id}"):
        service.create_task(session, project_id=second.id, user=owner, title="T", milestone_id=milestone.id,
                            start_date=D("2026-01-01"), due_date=D("2026-01-02"))
    with pytest.raises(InvalidInput, match="stage 'someday'"):
        service.create_milestone(session, project_id=first.id, user=owner, name="M2", stage="someday",
                                 start_date=D("2026-01-01"), due_date=D("2026-01-02"))
