"""Web pages of the training domain: the experiments section (leaderboard, chart, start form), a run's page,
the side-by-side comparison of runs and the model card."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core import jobs
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import Conflict, InvalidInput, MlpilotError, NotFound
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.projects.workspace import section_url
from mlpilot.training import metrics as run_metrics
from mlpilot.training import model_card, service
from mlpilot.training.charts import comparison_charts, confusion_heatmap, no_translation, run_charts
from mlpilot.training.models import Run
from mlpilot.training.tasks import TASK_CHOICES
from mlpilot.web import access
from mlpilot.web.pages import PageUser, page_gettext, redirect_after_error, render, request_locale

router = APIRouter(include_in_schema=False)


def leaderboard_chart(runs: list[Run], *, gettext: Callable[[str], str] = no_translation) -> dict[str, Any] | None:
    """Build a Chart.js bar chart of the primary metric per run of the leading task."""
    _ = gettext
    if not runs:
        return None
    task = runs[0].task
    same = [r for r in runs if r.task == task]
    if len(same) < 2:  # one bar compares nothing; the leaderboard table above says it
        return None
    metric = same[0].primary_metric or ""
    return {
        "type": "bar",
        "data": {"labels": [f"#{r.id} {r.engine}" for r in same],
                 "datasets": [{"label": metric, "data": [r.primary_metric_value for r in same],
                               "backgroundColor": ["#16a34a"] + ["#2f5bea"] * (len(same) - 1)}]},
        "options": {"plugins": {"legend": {"display": True},
                                "title": {"display": True,
                                          "text": f"{_(task)}: {metric} ("
                                                  + (_("higher is better") if run_metrics.higher_is_better(metric)
                                                     else _("lower is better")) + ")"}},
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
    engine_list = service.list_engines()
    chart = leaderboard_chart(board, gettext=page_gettext(request, user))
    return render(request, template, user=user, p=project, board=board, runs=runs, active=active, job_of=job_of,
                  datasets={r.id: service.describe_dataset(session, run=r) for r in runs}, versions=versions,
                  columns=columns, tasks=TASK_CHOICES, chart=chart, error=error, form=form or {},
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member],
                  engines=engine_list, default_engine=service.default_engine(),
                  metric_choices=sorted({m for ms in service.TASK_METRICS.values() for m in ms}),
                  experiments=service.experiment_names(session, project_id=project_id),
                  external_engines=service.list_external_engines(session, project_id=project_id),
                  higher_is_better=run_metrics.higher_is_better, status_code=status_code)


@router.get("/projects/{project_id}/_section/runs", response_class=HTMLResponse, dependencies=[access.Project.read])
def runs_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


@router.post("/projects/{project_id}/runs/start", dependencies=[access.Project.write])
def start_from_form(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                    dataset_version_id: Annotated[int, Form()], target: Annotated[str, Form()],
                    task: Annotated[str, Form()] = "auto", time_budget_s: Annotated[float, Form()] = 60.0,
                    engine: Annotated[str, Form()] = "", metric: Annotated[str, Form()] = "",
                    sensitive_column: Annotated[str, Form()] = "", positive_class: Annotated[str, Form()] = "",
                    experiment: Annotated[str, Form()] = "",
                    external_engine_id: Annotated[str, Form()] = "") -> Response:
    form = {"dataset_version_id": dataset_version_id, "target": target, "task": task, "time_budget_s": time_budget_s,
            "engine": engine, "metric": metric, "sensitive_column": sensitive_column,
            "positive_class": positive_class, "experiment": experiment}
    try:
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        external = int(external_engine_id) if external_engine_id.strip().isdigit() and engine == "http" else None
        service.create_run(session, runtime=runtime, project_id=project_id, dataset_version_id=dataset_version_id,
                           target=target.strip(), task=task, time_budget_s=time_budget_s, user_id=user.id,
                           engine=engine or None, metric=metric or None, sensitive_column=sensitive_column or None,
                           positive_class=positive_class or None,
                           experiment=experiment or None, external_engine_id=external)
    except (InvalidInput, NotFound, Conflict) as exc:
        # Post/Redirect/Get: the build page's experiments section shows the error with the inputs kept.
        return redirect_after_error(section_url(project_id, "runs"), error=exc.detail, form=form,
                                    shown_at=f"/projects/{project_id}/_section/runs")
    return RedirectResponse(section_url(project_id, "runs"), status_code=303)


@router.post("/projects/{project_id}/external-engines/create", dependencies=[access.Project.write])
def create_external_engine_from_form(
        project_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
        name: Annotated[str, Form()], url: Annotated[str, Form()],
        request_template: Annotated[str, Form(alias="request")] = '{"records": "$records"}',
        response_path: Annotated[str, Form()] = "predictions",
        response_field: Annotated[str, Form()] = "", secret_header: Annotated[str, Form()] = "",
        secret_value: Annotated[str, Form()] = "") -> Response:
    try:
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        try:
            template = json.loads(request_template)
        except ValueError:
            raise InvalidInput("The request template must be JSON, e.g. {\"records\": \"$records\"}.") from None
        secrets = {secret_header.strip(): secret_value} if secret_header.strip() and secret_value else {}
        service.create_external_engine(session, runtime=runtime, project_id=project_id, user_id=user.id,
                                       config={"name": name, "url": url, "request": template,
                                               "response_path": response_path,
                                               "response_field": response_field.strip() or None},
                                       secret_headers=secrets)
    except (InvalidInput, NotFound, Conflict) as exc:
        return _section(request, session, user, project_id, error=exc.detail, status_code=exc.status,
                        template="training/start_error.html")
    return RedirectResponse(section_url(project_id, "runs"), status_code=303)


@router.get("/runs/compare", response_class=HTMLResponse)
def compare_page(request: Request, session: DbSession, user: PageUser, ids: Annotated[list[str], Query()]) -> Response:
    run_ids = [int(part) for value in ids for part in value.split(",") if part.strip().isdigit()]
    try:
        runs = service.get_runs(session, run_ids=run_ids)
        for run in runs:
            projects_service.check_project_access(session, project_id=run.project_id, user=user)
        compared = service.compare_runs(session, run_ids=run_ids)
        charts = comparison_charts(compared.records, gettext=page_gettext(request, user))
        comparison = {**compared.as_dict(), "charts": charts}
    except (InvalidInput, NotFound) as exc:
        return render(request, "training/compare.html", user=user, error=exc.detail, c=None, p=None,
                      status_code=exc.status)
    project = projects_service.get_project(session, project_id=comparison["project_id"])
    return render(request, "training/compare.html", user=user, c=comparison, p=project, error=None)


@router.get("/runs/{run_id}", response_class=HTMLResponse, dependencies=[access.Run.read])
def run_page(run_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _run_page(request, session, user, run_id)


def _run_page(request: Request, session: DbSession, user: User, run_id: int, *, error: str | None = None,
              form: dict[str, str] | None = None) -> HTMLResponse:
    from mlpilot.registry import service as registry_service

    run = service.get_run(session, run_id=run_id)
    project = projects_service.check_project_access(session, project_id=run.project_id, user=user)
    job = None
    if run.status in service.ACTIVE and run.job_id:
        try:
            job = jobs.get_job(session, job_id=run.job_id)
        except NotFound:
            job = None
    model_name = (registry_service.get_registration_policy(session, project_id=run.project_id).model_name
                  or registry_service.default_model_name(session, project_id=run.project_id, target=run.target))
    return render(request, "training/run.html", user=user, r=run, p=project, job=job,
                  charts=run_charts(run, gettext=page_gettext(request, user)),
                  confusion=confusion_heatmap((run.evaluation or {}).get("confusion_matrix") or []),
                  dataset=service.describe_dataset(session, run=run),
                  experiment=service.experiment_names(session, project_id=run.project_id).get(run.experiment_id or 0),
                  models=registry_service.list_run_model_versions(session, run_id=run.id),
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member], model_name=model_name,
                  register_error=error, register_form=form or {}, status_code=422 if error else 200,
                  higher_is_better=run_metrics.higher_is_better, active=run.status in service.ACTIVE)


@router.post("/runs/{run_id}/register", response_class=HTMLResponse, dependencies=[access.Run.write])
async def register_run_form(run_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                            user: PageUser) -> Response:
    """Register the run the user picked, under the model name they chose (Korean stays Korean)."""
    form = {k: str(v) for k, v in (await request.form()).items()}

    def act() -> Response:
        try:
            run = service.get_run(session, run_id=run_id)
            projects_service.check_project_access(session, project_id=run.project_id, user=user, write=True)
            from mlpilot.registry import service as registry_service

            name = registry_service.check_model_name(form.get("name"))
            model_version = service.register_run(session, run_id=run_id, user_id=user.id, name=name,
                                                 store=runtime.store)
        except MlpilotError as exc:
            session.rollback()
            return _run_page(request, session, user, run_id, form=form,
                             error=exc.localized(page_gettext(request, user)))
        return RedirectResponse(f"/model-versions/{model_version.id}", status_code=303)

    return await run_in_threadpool(act)


@router.post("/runs/{run_id}/edit", dependencies=[access.Run.write])
def edit_run(run_id: int, session: DbSession, user: PageUser, tags: Annotated[str, Form()] = "",
             notes: Annotated[str, Form()] = "") -> Response:
    run = service.get_run(session, run_id=run_id)
    projects_service.check_project_access(session, project_id=run.project_id, user=user, write=True)
    service.update_run(session, run_id=run_id, tags=[t for t in tags.split(",")], notes=notes)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/runs/{run_id}/model-card", dependencies=[access.Run.read])
def model_card_page(run_id: int, request: Request, session: DbSession, user: PageUser,
                    locale: str | None = None, format: str = "html") -> Response:
    run = service.get_run(session, run_id=run_id)
    projects_service.check_project_access(session, project_id=run.project_id, user=user)
    locale = locale if locale in ("en", "ko") else request_locale(request, user)
    context = model_card.card_context(session, run=run)
    if format == "pdf":
        return Response(model_card.render_card_pdf(context, locale=locale), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="model-card-run-{run_id}-{locale}.pdf"'})
    return HTMLResponse(model_card.render_card_html(context, locale=locale))
