"""Pages of the team domain: a project's team page (member profiles and skills, the needs of each plan task, the
gap-map heat map, skill gaps with training, staffing cost, the build-in-house vs managed chart) and the admin's
salary table form. Forms post, then come back to the page (a refusal is shown there, the input kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import InvalidInput, MlpilotError
from mlpilot.core.i18n import get_translations
from mlpilot.pmo import service as pmo_service
from mlpilot.projects import service as projects_service
from mlpilot.team import service
from mlpilot.team.catalog import load_catalog
from mlpilot.team.compute import BuildVsManaged, GapCell
from mlpilot.team.schemas import MAX_ID, NeedCreate, ProfileSet, SalaryCell, SalaryTableIn
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
PAGE = "/projects/{project_id}/team"
COLOURS = {"staff": "#2f5bea", "hiring": "#f59e0b", "tooling": "#8b5cf6", "infrastructure": "#0d9488",
           "service_fee": "#dc2626"}
MAX_FORM_FIELDS = 300
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def heat_cell(cell: GapCell) -> dict[str, Any]:
    """The colour of a gap-map cell: red as deep as the shortfall's share of the need, green when covered."""
    if cell.needed <= 0:
        return {"background": "transparent", "dark": False}
    if cell.short <= 0:
        return {"background": "rgba(22, 163, 74, 0.18)", "dark": False}
    share = min(cell.short / cell.needed, 1.0)
    return {"background": f"rgba(220, 38, 38, {0.15 + 0.75 * share:.2f})", "dark": share > 0.55}


def comparison_chart(result: BuildVsManaged, labels: dict[str, str]) -> dict[str, Any]:
    """A Chart.js stacked bar chart: per year, the in-house and the managed cost split by category."""
    years = [labels["year"].format(n=y.year) for y in result.in_house.years]
    datasets = []
    for option, stack in ((result.in_house, labels["in_house"]), (result.managed, labels["managed"])):
        for category, colour in COLOURS.items():
            values = [getattr(y, category) for y in option.years]
            if any(values):
                datasets.append({"label": f"{stack} · {labels[category]}", "data": values, "stack": stack,
                                 "backgroundColor": colour,
                                 "borderColor": "#1d2330" if option.option == "managed" else colour,
                                 "borderWidth": 1 if option.option == "managed" else 0})
    return {"type": "bar", "data": {"labels": years, "datasets": datasets},
            "options": {"plugins": {"legend": {"position": "bottom"}},
                        "scales": {"x": {"stacked": True},
                                   "y": {"stacked": True, "title": {"display": True, "text": result.currency}}}}}


def _labels(locale: str) -> dict[str, str]:
    _ = get_translations(locale).gettext
    return {"year": _("Year {n}"), "in_house": _("In house"), "managed": _("Managed service"), "staff": _("Staff"),
            "hiring": _("Hiring"), "tooling": _("Tooling"), "infrastructure": _("Infrastructure"),
            "service_fee": _("Service fee")}


def _url(project_id: int, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return PAGE.format(project_id=project_id) + (f"?{query}" if query else "")


@router.get(PAGE, response_class=HTMLResponse, dependencies=[access.Project.read])
def team_page(project_id: int, request: Request, session: DbSession, user: PageUser, years: int = 3) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    locale = request_locale(request, user)
    years = years if 1 <= years <= service.MAX_YEARS else 3
    overview = service.team_overview(session, project_id=project_id, years=years)
    tasks = pmo_service.list_tasks(session, project_id=project_id)
    needs = service.list_needs(session, project_id=project_id)
    labels = _labels(locale)
    return render(request, "team/page.html", user=user, p=project, o=overview, catalog=load_catalog(),
                  profiles=service.list_profiles(session, project_id=project_id), tasks=tasks,
                  task_titles={t.id: t.title for t in tasks}, needs=needs, years=years, labels=labels,
                  chart=comparison_chart(overview.comparison, labels),
                  heat={(row.role, c.week): heat_cell(c) for row in overview.gaps.rows for c in row.cells},
                  error=request.query_params.get("error", "")[:2000],
                  notice=request.query_params.get("notice", "")[:300],
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member])


def _validated(model: type[ProfileSet] | type[NeedCreate] | type[SalaryTableIn], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}.") from None


def _int(value: str, name: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a whole number.") from None


async def _form(request: Request) -> dict[str, str]:
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    return {k: str(v)[:2000] for k, v in form.items()}


async def _done(project_id: int, action: Callable[[], object], anchor: str, notice: str | None = None) -> Response:
    try:
        await run_in_threadpool(action)
    except MlpilotError as exc:
        return RedirectResponse(_url(project_id, error=exc.detail) + f"#{anchor}", status_code=303)
    return RedirectResponse(_url(project_id, notice=notice) + f"#{anchor}", status_code=303)


@router.post(PAGE + "/_members/{user_id}", dependencies=[access.Project.write])
async def save_profile(project_id: int, user_id: Id, request: Request, session: DbSession,
                       user: PageUser) -> Response:
    form = await _form(request)

    def act() -> None:
        data = {"role": form.get("role", ""), "level": form.get("level", "mid"),
                "capacity_percent": _int(form.get("capacity_percent", "100"), "capacity_percent"),
                "skills": {step: _int(form.get(f"skill_{step}", "0"), f"skills.{step}")
                           for step in load_catalog().step_keys}}
        service.set_profile(session, project_id=project_id, user=user, user_id=user_id,
                            data=_validated(ProfileSet, data))
    return await _done(project_id, act, "team-members", "saved")


@router.post(PAGE + "/_needs", dependencies=[access.Project.write])
async def add_need(project_id: int, request: Request, session: DbSession, user: PageUser) -> Response:
    form = await _form(request)

    def act() -> None:
        data = {"task_id": _int(form.get("task_id", ""), "task_id"), "role": form.get("role", ""),
                "level": form.get("level", "mid"), "percent": _int(form.get("percent", ""), "percent"),
                "step": form.get("step") or None}
        service.set_need(session, project_id=project_id, user=user, data=_validated(NeedCreate, data))
    return await _done(project_id, act, "team-needs", "saved")


@router.post(PAGE + "/_needs/suggest", dependencies=[access.Project.write])
async def suggest(project_id: int, session: DbSession, user: PageUser) -> Response:
    return await _done(project_id, lambda: service.suggest_needs(session, project_id=project_id, user=user),
                       "team-needs", "suggested")


@router.post(PAGE + "/_needs/{need_id}/delete", dependencies=[access.Project.write])
async def remove_need(project_id: int, need_id: Id, session: DbSession, user: PageUser) -> Response:
    return await _done(project_id, lambda: service.delete_need(session, project_id=project_id, user=user,
                                                               need_id=need_id), "team-needs")


def _salary_page(request: Request, session: DbSession, user: User, *, error: str = "", notice: str = "",
                 form: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    table = service.salary_table(session)
    return render(request, "team/salaries.html", user=user, table=table, rates=table.rates(), catalog=load_catalog(),
                  error=error, notice=notice, form=form, is_admin=user.role == Role.admin, status_code=status_code)


@router.get("/team/salaries", response_class=HTMLResponse, dependencies=[access.SignedIn])
def salaries_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _salary_page(request, session, user, notice=request.query_params.get("notice", "")[:100])


@router.post("/team/salaries", response_class=HTMLResponse, dependencies=[access.AdminOnly])
async def save_salaries(request: Request, session: DbSession, user: PageUser) -> Response:
    form = await _form(request)
    catalog = load_catalog()

    def act() -> None:
        if form.get("reset"):
            service.reset_salary_table(session, user=user)
            return
        cells = []
        for role in catalog.role_keys:
            for level in catalog.level_keys:
                raw = form.get(f"cost_{role}_{level}", "").replace(",", "").strip()
                try:
                    cost = float(raw) if raw else None
                except ValueError:
                    raise InvalidInput(f"Salary table refused: {role}/{level}: {raw!r} is not a number.") from None
                cells.append(SalaryCell(role=role, level=level, monthly_cost=cost))
        data = _validated(SalaryTableIn, {"currency": form.get("currency", "KRW").strip().upper(),
                                          "entries": [c.model_dump() for c in cells]})
        service.save_salary_table(session, user=user, data=data)

    try:
        await run_in_threadpool(act)
    except MlpilotError as exc:
        return _salary_page(request, session, user, error=exc.detail, form=form, status_code=422)
    return RedirectResponse("/team/salaries?notice=saved", status_code=303)
