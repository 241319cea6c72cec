"""Pages of the risks domain: a project's risk register (probability × impact heat map, filtered list, forms to
add, edit and close, each risk's history), its issues and change requests, and the plan figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mlpilot.accounts.models import ROLE_RANK, Role
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput, NotFound, PermissionDenied
from mlpilot.core.i18n import get_translations
from mlpilot.projects import service as projects_service
from mlpilot.risks import service
from mlpilot.risks.models import IssueKind, IssueStatus, Risk, RiskStatus
from mlpilot.risks.schemas import IssueUpdate, RiskPlanUpdate, RiskUpdate
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=20_000)]
Short = Annotated[str, Form(max_length=300)]
PLAN_FIELDS = {"dataset_name": str, "target_column": str, "min_rows": int, "min_rows_per_class": int,
               "target_metric": str, "target_value": float, "stale_runs": int, "delivery_grace_hours": int,
               "alert_lookback_hours": int, "max_error_rate": float, "max_latency_p95_ms": float}


def heat_colour(score: int) -> str:
    return "#dc2626" if score >= 15 else "#f59e0b" if score >= 8 else "#16a34a"


def heatmap_spec(risks: list[Risk], *, x_label: str, y_label: str, label: str) -> dict[str, Any]:
    """A Chart.js bubble chart: one bubble per probability × impact cell holding open risks, sized by their count."""
    cells: dict[tuple[int, int], int] = {}
    for risk in risks:
        if risk.status != RiskStatus.closed:
            cells[(risk.probability, risk.impact)] = cells.get((risk.probability, risk.impact), 0) + 1
    # Category axes put the five levels on whole cells (1 … 5, impact 5 at the top).
    points = [{"x": str(p), "y": str(i), "r": 8 + 5 * n, "count": n} for (p, i), n in sorted(cells.items())]
    levels = ["1", "2", "3", "4", "5"]
    return {"type": "bubble",
            "data": {"datasets": [{"label": label, "data": points,
                                   "backgroundColor": [heat_colour(p * i) for p, i in sorted(cells)]}]},
            "options": {"plugins": {"legend": {"display": False}},
                        "scales": {"x": {"type": "category", "labels": levels, "offset": True,
                                         "title": {"display": True, "text": x_label}},
                                   "y": {"type": "category", "labels": levels[::-1], "offset": True,
                                         "title": {"display": True, "text": y_label}}}}}


def _page_url(project_id: int, *, error: str | None = None, notice: str | None = None, anchor: str = "") -> str:
    query = urlencode({k: v for k, v in (("error", error), ("notice", notice)) if v})
    return f"/projects/{project_id}/risks" + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


@router.get("/projects/{project_id}/risks", response_class=HTMLResponse, dependencies=[access.Project.read])
def register_page(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    _ = get_translations(request_locale(request, user)).gettext
    status = request.query_params.get("status") or None
    source = request.query_params.get("source") or None
    error = None
    try:
        shown = service.list_risks(session, project_id=project_id, status=status, source=source)
    except InvalidInput as exc:
        shown, error = service.list_risks(session, project_id=project_id), exc.detail
    everything = service.list_risks(session, project_id=project_id)
    chart = heatmap_spec(everything, x_label=_("Probability"), y_label=_("Impact"), label=_("Open risks"))
    members = service.member_names(session, project_id=project_id)
    return render(request, "risks/register.html", user=user, p=project, risks=shown, chart=chart,
                  has_open=any(r.status != RiskStatus.closed for r in everything),
                  history={r.id: service.list_history(session, risk_id=r.id) for r in shown},
                  issues=service.list_issues(session, project_id=project_id), members=members,
                  plan=service.get_plan(session, project_id=project_id), detectors=service.detector_names(),
                  statuses=list(RiskStatus), issue_statuses=list(IssueStatus), kinds=list(IssueKind),
                  status_filter=status or "", source_filter=source or "", today=dt.date.today(),
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member],
                  error=error or request.query_params.get("error"), notice=request.query_params.get("notice"))


def _int(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a whole number.") from None


def _number(value: str, name: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a number.") from None


def _date(value: str, name: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date; expected YYYY-MM-DD.") from None


def _level(value: str, name: str) -> int:
    level = _int(value, name)
    if level is None:
        raise InvalidInput(f"{name}: choose a level from 1 to 5.")
    return level


def _done(project_id: int, action: Callable[[], object], anchor: str) -> Response:
    """Run a form's action and come back to the page, showing a refusal there instead of an error page."""
    try:
        notice = action()
    except (InvalidInput, PermissionDenied, NotFound) as exc:
        return RedirectResponse(_page_url(project_id, error=exc.detail, anchor=anchor), status_code=303)
    except ValidationError as exc:
        first = exc.errors()[0]
        detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return RedirectResponse(_page_url(project_id, error=detail, anchor=anchor), status_code=303)
    return RedirectResponse(_page_url(project_id, notice=notice if isinstance(notice, str) else None,
                                      anchor=anchor), status_code=303)


@router.post("/projects/{project_id}/risks/_add", dependencies=[access.Project.write])
def add_risk(project_id: int, session: DbSession, user: PageUser, title: Short, probability: Short,
             impact: Short, description: Text = "", mitigation: Text = "", owner_id: Short = "",
             due_date: Short = "") -> Response:
    return _done(project_id, lambda: service.create_risk(
        session, project_id=project_id, user=user, title=title, probability=_level(probability, "probability"),
        impact=_level(impact, "impact"), description=description, mitigation=mitigation,
        owner_id=_int(owner_id, "owner_id"), due_date=_date(due_date, "due_date")), "risks")


@router.post("/projects/{project_id}/risks/{risk_id}/_edit", dependencies=[access.Project.write, access.Risk.write])
def edit_risk(project_id: int, risk_id: int, session: DbSession, user: PageUser, title: Short, probability: Short,
              impact: Short, status: Short, description: Text = "", mitigation: Text = "", owner_id: Short = "",
              due_date: Short = "") -> Response:
    def act() -> None:
        changes = RiskUpdate.model_validate({
            "title": title, "probability": _level(probability, "probability"), "impact": _level(impact, "impact"),
            "status": status, "description": description, "mitigation": mitigation,
            "owner_id": _int(owner_id, "owner_id"), "due_date": _date(due_date, "due_date")})
        service.update_risk(session, project_id=project_id, risk_id=risk_id, user=user, changes=changes)
    return _done(project_id, act, f"risk-{risk_id}")


@router.post("/projects/{project_id}/risks/{risk_id}/_close", dependencies=[access.Project.write, access.Risk.write])
def close_risk(project_id: int, risk_id: int, session: DbSession, user: PageUser) -> Response:
    return _done(project_id, lambda: service.close_risk(session, project_id=project_id, risk_id=risk_id,
                                                        user=user), f"risk-{risk_id}")


@router.post("/projects/{project_id}/risks/_scan", dependencies=[access.Project.write])
def scan(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser) -> Response:
    _ = get_translations(request_locale(request, user)).gettext

    def act() -> str:
        job = service.request_scan(session, runtime=runtime, project_id=project_id, user=user)
        return _("Scan queued as job %(id)s; reload the page when it has finished.") % {"id": job.id}
    return _done(project_id, act, "risks")


@router.post("/projects/{project_id}/risks/_plan", dependencies=[access.Project.write])
async def save_plan(project_id: int, request: Request, session: DbSession, user: PageUser) -> Response:
    form = await request.form()
    values: dict[str, object] = {}

    def act() -> None:
        for name, kind in PLAN_FIELDS.items():
            raw = str(form.get(name) or "")[:300]
            values[name] = (raw.strip() or None) if kind is str else (
                _int(raw, name) if kind is int else _number(raw, name))
        for name in ("stale_runs", "delivery_grace_hours", "alert_lookback_hours"):
            if values[name] is None:
                values.pop(name)
        service.update_plan(session, project_id=project_id, user=user, changes=RiskPlanUpdate.model_validate(values))
    return _done(project_id, act, "plan")


@router.post("/projects/{project_id}/issues/_add", dependencies=[access.Project.write])
def add_issue(project_id: int, session: DbSession, user: PageUser, title: Short, kind: Short = "issue",
              description: Text = "", owner_id: Short = "") -> Response:
    return _done(project_id, lambda: service.create_issue(
        session, project_id=project_id, user=user, title=title, kind=kind, description=description,
        owner_id=_int(owner_id, "owner_id")), "issues")


@router.post("/projects/{project_id}/issues/{issue_id}/_status",
             dependencies=[access.Project.write, access.Issue.write])
def issue_status(project_id: int, issue_id: int, session: DbSession, user: PageUser, status: Short) -> Response:
    return _done(project_id, lambda: service.update_issue(
        session, project_id=project_id, issue_id=issue_id, user=user,
        changes=IssueUpdate.model_validate({"status": status})), "issues")


@router.post("/projects/{project_id}/issues/{issue_id}/_decide",
             dependencies=[access.Project.write, access.Issue.write])
def decide(project_id: int, issue_id: int, session: DbSession, user: PageUser, decision: Short,
           note: Text = "") -> Response:
    return _done(project_id, lambda: service.decide_issue(session, project_id=project_id, issue_id=issue_id,
                                                          user=user, decision=decision, note=note),
                 "issues")

