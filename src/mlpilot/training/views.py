"""Web pages of the training domain: the project's experiments section (leaderboard, chart, start form)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core import jobs
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.training import metrics as run_metrics
from mlpilot.training import service
from mlpilot.training.models import Run
from mlpilot.training.tasks import TASK_CHOICES
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


def leaderboard_chart(runs: list[Run]) -> dict[str, Any] | None:
    """Build a Chart.js bar chart of the primary metric per run of the leading task."""
    if not runs:
        return None
    task = runs[0].task
    same = [r for r in runs if r.task == task]
    metric = same[0].primary_metric or ""
    return {
        "type": "bar",
        "data": {"labels": [f"#{r.id} {r.engine}" for r in same],
                 "datasets": [{"label": metric, "data": [r.primary_metric_value for r in same],
                               "backgroundColor": ["#16a34a"] + ["#2f5bea"] * (len(same) - 1)}]},
        "options": {"plugins": {"legend": {"display": True},
                                "title": {"display": True,
                                          "text": f"{task}: {metric} "
                                                  f"({'higher' if run_metrics.higher_is_better(metric) else 'lower'}"
                                                  " is better)"}},
                    "scales": {"y": {"beginAtZero": metric in ("roc_auc", "accuracy", "f1", "f1_macro")}}},
    }


def _section(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
             status_code: int = 200, template: str = "training/_section.html",
             form: dict[str, Any] | None = None) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    board = service.leaderboard(session, project_id=project_id)
    runs = service.list_runs(session, project_id=project_id)
    active = [r for r in runs if r.status in service.ACTIVE]
    job_of = {}
    for run in active:
        try:
            job_of[run.id] = jobs.get_job(session, job_id=run.job_id) if run.job_id else None
        except NotFound:
            job_of[run.id] = None
    versions = datasets_service.list_project_versions(session, project_id=project_id)
    columns = sorted({c["name"] for v in versions for c in v.schema})
    return render(request, template, user=user, p=project, board=board, runs=runs, active=active, job_of=job_of,
                  datasets={r.id: service.describe_dataset(session, run=r) for r in runs}, versions=versions,
                  columns=columns, tasks=TASK_CHOICES, chart=leaderboard_chart(board), error=error, form=form or {},
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member],
                  higher_is_better=run_metrics.higher_is_better, status_code=status_code)


@router.get("/projects/{project_id}/_section/runs", response_class=HTMLResponse)
def runs_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


@router.post("/projects/{project_id}/runs/start")
def start_from_form(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                    dataset_version_id: Annotated[int, Form()], target: Annotated[str, Form()],
                    task: Annotated[str, Form()] = "auto", time_budget_s: Annotated[float, Form()] = 60.0) -> Response:
    form = {"dataset_version_id": dataset_version_id, "target": target, "task": task, "time_budget_s": time_budget_s}
    try:
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        service.create_run(session, runtime=runtime, project_id=project_id, dataset_version_id=dataset_version_id,
                           target=target.strip(), task=task, time_budget_s=time_budget_s, user_id=user.id)
    except (InvalidInput, NotFound, Conflict) as exc:
        return _section(request, session, user, project_id, error=exc.detail, status_code=exc.status,
                        template="training/start_error.html", form=form)
    return RedirectResponse(f"/projects/{project_id}#section-runs", status_code=303)
