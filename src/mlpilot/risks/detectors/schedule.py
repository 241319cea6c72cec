"""Detector over the plan: a milestone projected to finish after its due date."""

from __future__ import annotations

import datetime as dt

from mlpilot.pmo import service as pmo_service
from mlpilot.pmo.slippage import LATE
from mlpilot.risks.findings import Finding, ScanContext, detector


@detector("milestone_late")
def milestone_late(ctx: ScanContext) -> list[Finding]:
    """An open milestone already past due, or whose open tasks end after it (a late open task ends today at best).

    Reads the pmo schedule summary (the slippage of every item) and the tasks under each milestone.
    """
    today = ctx.now.date()
    summary = pmo_service.schedule_summary(ctx.session, project_id=ctx.project_id, today=today)
    late_tasks = {i.id for i in summary.items if i.kind == "task" and i.state == LATE}
    projected: dict[int, dt.date] = {}
    for task in pmo_service.list_tasks(ctx.session, project_id=ctx.project_id):
        if task.milestone_id is None or task.completed_on is not None:
            continue
        end = max(task.due_date, today) if task.id in late_tasks else task.due_date
        projected[task.milestone_id] = max(projected.get(task.milestone_id, end), end)
    found = []
    for item in summary.items:
        if item.kind != "milestone" or item.completed_on is not None:
            continue
        finish = max(projected.get(item.id, item.due_date), today if item.state == LATE else item.due_date)
        days = (finish - item.due_date).days
        if days <= 0:
            continue
        found.append(Finding(
            key=f"milestone:{item.id}", title=f"Milestone {item.name} projected {days} day(s) after its due date",
            title_ko=f"마일스톤 {item.name} 완료 예상일이 기한보다 {days}일 늦음",
            description=f"Due {item.due_date.isoformat()}; projected to finish on {finish.isoformat()} from its open "
                        f"tasks{' (already past due)' if item.state == LATE else ''}.",
            probability=5 if item.state == LATE else 4 if days > 7 else 3, impact=4,
            evidence_url=f"/projects/{ctx.project_id}#section-plan",
            mitigation="Re-plan the late tasks (more people, less scope) or agree a new date with the client "
                       "before the milestone passes.",
            mitigation_ko="지연 작업을 재계획(인력 보강·범위 축소)하거나, 마일스톤 전에 고객과 새 일정을 합의합니다."))
    return found
