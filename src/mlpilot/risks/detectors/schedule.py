"""Detector over the plan: a milestone projected to finish after its due date."""

from __future__ import annotations

import datetime as dt
import math

from mlpilot.pmo import service as pmo_service
from mlpilot.pmo.forecast import forecast as schedule_forecast
from mlpilot.pmo.slippage import LATE
from mlpilot.risks.findings import Finding, ScanContext, detector


@detector("milestone_late")
def milestone_late(ctx: ScanContext) -> list[Finding]:
    """An open milestone already past due, whose open tasks end after it (a late open task ends today at best), or
    whose P85 finish from the schedule forecast (the team's measured pace, Monte Carlo) passes its due date.

    Reads the pmo schedule summary (the slippage of every item), the tasks under each milestone and the forecast.
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
    outlook = {m.id: m for m in schedule_forecast(ctx.session, project_id=ctx.project_id, today=today).milestones
               if m.p85 is not None}
    found = []
    for item in summary.items:
        if item.kind != "milestone" or item.completed_on is not None:
            continue
        forecast = outlook.get(item.id)
        finish = max(projected.get(item.id, item.due_date), today if item.state == LATE else item.due_date,
                     forecast.p85 if forecast is not None and forecast.p85 is not None else item.due_date)
        days = (finish - item.due_date).days
        if days <= 0:
            continue
        by_forecast = forecast is not None and forecast.p85 is not None and forecast.p85 >= finish
        late_share = forecast.late_probability if forecast is not None else None
        probability = (5 if item.state == LATE else max(3, min(5, math.ceil(5 * late_share))) if late_share
                       else 4 if days > 7 else 3)
        found.append(Finding(
            key=f"milestone:{item.id}", title=f"Milestone {item.name} projected {days} day(s) after its due date",
            title_ko=f"마일스톤 {item.name} 완료 예상일이 기한보다 {days}일 늦음",
            description=f"Due {item.due_date.isoformat()}; projected to finish on {finish.isoformat()} "
                        + ("(P85 of the schedule forecast" + (f", {late_share:.0%} of draws late)" if late_share
                                                              else ")") if by_forecast else "from its open tasks")
                        + (" (already past due)." if item.state == LATE else "."),
            probability=probability, impact=4,
            evidence_url=f"/projects/{ctx.project_id}#section-plan",
            mitigation="Re-plan the late tasks (more people, less scope) or agree a new date with the client "
                       "before the milestone passes.",
            mitigation_ko="지연 작업을 재계획(인력 보강·범위 축소)하거나, 마일스톤 전에 고객과 새 일정을 합의합니다."))
    return found
