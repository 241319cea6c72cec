"""Web page of the value domain: a project's value tree built with forms, KPI charts (target, baseline, actual)
and the cumulative benefit against the cumulative cost (ROI and payback)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.connections import service as connections_service
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput, MlpilotError
from mlpilot.core.i18n import get_translations
from mlpilot.core.runtime import Runtime
from mlpilot.projects import service as projects_service
from mlpilot.serving import service as serving_service
from mlpilot.value import service
from mlpilot.value.models import CostKind, Direction, KpiSource, NodeKind
from mlpilot.value.schemas import CostCreate, KpiValue, NodeCreate, Roi
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
ACTUAL, BASELINE, TARGET, COST = "#2f5bea", "#9ca3af", "#16a34a", "#dc2626"
OPTIONAL = ("parent_id", "baseline", "target", "value_per_unit", "source", "service_name", "connection_id",
            "feed_month_column", "feed_value_column")


def kpi_chart(kpi: KpiValue, labels: dict[str, str]) -> dict[str, Any]:
    """A Chart.js line chart of a KPI per month: the actual, with its baseline and target as flat lines."""
    months = [p.period for p in kpi.monthly]
    flat = {"borderDash": [6, 4], "pointRadius": 0, "fill": False}
    return {"type": "line", "data": {"labels": months, "datasets": [
        {"label": labels["actual"], "data": [p.actual for p in kpi.monthly], "borderColor": ACTUAL,
         "backgroundColor": ACTUAL, "spanGaps": False},
        {"label": labels["baseline"], "data": [kpi.baseline] * len(months), "borderColor": BASELINE, **flat},
        {"label": labels["target"], "data": [kpi.target] * len(months), "borderColor": TARGET, **flat},
    ]}, "options": {"plugins": {"legend": {"position": "bottom"}},
                    "scales": {"y": {"title": {"display": True, "text": kpi.unit}}}}}


def roi_chart(roi: Roi, labels: dict[str, str]) -> dict[str, Any]:
    """Cumulative benefit against cumulative cost per month: payback is where the two lines cross."""
    return {"type": "line", "data": {"labels": [m.month for m in roi.months], "datasets": [
        {"label": labels["benefit"], "data": [m.cumulative_benefit for m in roi.months], "borderColor": TARGET,
         "backgroundColor": TARGET},
        {"label": labels["cost"], "data": [m.cumulative_cost for m in roi.months], "borderColor": COST,
         "backgroundColor": COST},
    ]}, "options": {"plugins": {"legend": {"position": "bottom"}},
                    "scales": {"y": {"title": {"display": True, "text": roi.currency}}}}}


def _body(request: Request, session: DbSession, user: User, runtime: Runtime, project_id: int, *,
          error: str | None = None, form: dict[str, Any] | None = None,
          template: str = "value/_body.html") -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    locale = request_locale(request, user)
    _ = get_translations(locale).gettext
    summary = service.value_summary(session, project_id, runtime=runtime)
    labels = {"actual": _("Actual"), "baseline": _("Baseline"), "target": _("Target"),
              "benefit": _("Cumulative benefit"), "cost": _("Cumulative cost")}
    return render(request, template, user=user, p=project, summary=summary, error=error, form=form or {},
                  nodes=service.list_nodes(session, project_id=project_id), ko=locale == "ko",
                  kpis={k.node_id: k for k in summary.kpis},
                  charts={k.node_id: kpi_chart(k, labels) for k in summary.kpis},
                  roi_chart=roi_chart(summary.roi, labels), costs=service.list_costs(session, project_id=project_id),
                  services=serving_service.list_services(session, project_id=project_id),
                  connections=connections_service.list_connections(session, project_id=project_id),
                  kinds=list(NodeKind), sources=list(KpiSource), directions=list(Direction),
                  cost_kinds=list(CostKind),
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member])


@router.get("/projects/{project_id}/value", response_class=HTMLResponse, dependencies=[access.Project.read])
def value_page(project_id: int, request: Request, session: DbSession, user: PageUser,
               runtime: RuntimeDep) -> HTMLResponse:
    return _body(request, session, user, runtime, project_id, template="value/page.html")


@router.get("/projects/{project_id}/value/_body", response_class=HTMLResponse, dependencies=[access.Project.read])
def value_body(project_id: int, request: Request, session: DbSession, user: PageUser,
               runtime: RuntimeDep) -> HTMLResponse:
    return _body(request, session, user, runtime, project_id)


def _validated(model: type[NodeCreate] | type[CostCreate], form: dict[str, Any]) -> Any:
    data = {k: v for k, v in form.items() if not (k in (*OPTIONAL, "start_month") and str(v).strip() == "")}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}.") from None


def _act_sync(request: Request, session: DbSession, user: User, runtime: Runtime, project_id: int, action: str,
              item_id: int | None, form: dict[str, Any]) -> HTMLResponse:
    try:
        if action == "node":
            service.create_node(session, project_id=project_id, user=user, runtime=runtime,
                                data=_validated(NodeCreate, form))
        elif action == "cost":
            service.create_cost(session, project_id=project_id, user=user, data=_validated(CostCreate, form))
        elif action == "delete_node" and item_id is not None:
            service.delete_node(session, project_id=project_id, node_id=item_id, user=user)
        elif action == "delete_cost" and item_id is not None:
            service.delete_cost(session, project_id=project_id, cost_id=item_id, user=user)
    except MlpilotError as exc:
        # HTMX swaps only 2xx responses: the body comes back with the reason shown and the form kept.
        return _body(request, session, user, runtime, project_id, error=exc.detail, form=form)
    return _body(request, session, user, runtime, project_id)


async def _act(request: Request, session: DbSession, user: User, runtime: Runtime, project_id: int, action: str,
               item_id: int | None = None) -> HTMLResponse:
    form = {k: str(v) for k, v in (await request.form()).items()}
    return await run_in_threadpool(_act_sync, request, session, user, runtime, project_id, action, item_id, form)


@router.post("/projects/{project_id}/value/_nodes", response_class=HTMLResponse, dependencies=[access.Project.write])
async def add_node(project_id: int, request: Request, session: DbSession, user: PageUser,
                   runtime: RuntimeDep) -> HTMLResponse:
    return await _act(request, session, user, runtime, project_id, "node")


@router.post("/projects/{project_id}/value/_nodes/{node_id}/delete", response_class=HTMLResponse,
             dependencies=[access.Project.write])
async def remove_node(project_id: int, node_id: int, request: Request, session: DbSession, user: PageUser,
                      runtime: RuntimeDep) -> HTMLResponse:
    return await _act(request, session, user, runtime, project_id, "delete_node", node_id)


@router.post("/projects/{project_id}/value/_costs", response_class=HTMLResponse, dependencies=[access.Project.write])
async def add_cost(project_id: int, request: Request, session: DbSession, user: PageUser,
                   runtime: RuntimeDep) -> HTMLResponse:
    return await _act(request, session, user, runtime, project_id, "cost")


@router.post("/projects/{project_id}/value/_costs/{cost_id}/delete", response_class=HTMLResponse,
             dependencies=[access.Project.write])
async def remove_cost(project_id: int, cost_id: int, request: Request, session: DbSession, user: PageUser,
                      runtime: RuntimeDep) -> HTMLResponse:
    return await _act(request, session, user, runtime, project_id, "delete_cost", cost_id)
