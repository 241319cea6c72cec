"""The sections a document can hold, by key: each builds its blocks from the evidence in the document's language.

A document template (doc_templates.py) lists section keys; `register_section` adds one (another domain, a
plug-in, or a test), so a template can name it once it exists. A template may mark a section `optional`: it is
skipped while no builder of that key is registered (the communication log and deliverables, for instance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlpilot.core.documents import format_date, format_number
from mlpilot.reports import charts
from mlpilot.reports.blocks import Block, Chart, Facts, Paragraph, Table
from mlpilot.reports.evidence import Evidence

SHOWN_ROWS = 60
MAX_PLAN_ROWS = 600  # tasks listed in the schedule and baseline tables (the Gantt shows the first 40)


@dataclass(frozen=True)
class SectionContext:
    evidence: Evidence
    locale: str
    gettext: Callable[[str], str]
    questions: dict[str, str]
    with_charts: bool = True


SectionBuilder = Callable[[SectionContext], list[Block]]
SECTIONS: dict[str, SectionBuilder] = {}


def register_section(key: str) -> Callable[[SectionBuilder], SectionBuilder]:
    """Register the builder of section `key` (a later registration of the same key replaces it)."""
    def wrap(builder: SectionBuilder) -> SectionBuilder:
        SECTIONS[key] = builder
        return builder
    return wrap


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _empty(text: str) -> list[Block]:
    return [Paragraph(text, "empty")]


def _stage_names(_: Callable[[str], str]) -> dict[str, str]:
    return {"discover": _("Discover"), "design": _("Design"), "data": _("Data"), "build": _("Build"),
            "deploy": _("Deploy"), "operate": _("Operate")}


@register_section("overview")
def overview(ctx: SectionContext) -> list[Block]:
    _, e = ctx.gettext, ctx.evidence
    stages = _stage_names(_)
    items = [(_("Project"), e.project.name), (_("Client"), e.project.client or "—"),
             (_("Stage"), stages.get(e.project.stage, e.project.stage)),
             (_("Use case"), e.project.usecase_name or "—"), (_("Date"), format_date(e.generated_at))]
    blocks: list[Block] = [Facts(items)]
    if e.project.description:
        blocks.append(Paragraph(e.project.description))
    if e.timeline:
        blocks.append(Table([_("Stage"), _("State"), _("Entered")], [
            [stages.get(s.stage, s.stage), {"done": _("Done"), "current": _("Current")}.get(s.state, _("Upcoming")),
             format_date(s.entered_at) if s.state != "upcoming" else "—"] for s in e.timeline]))
    return blocks


@register_section("screening")
def screening(ctx: SectionContext) -> list[Block]:
    _, s = ctx.gettext, ctx.evidence.screening
    if s is None:
        return _empty(_("The project has not been screened yet."))
    answers = {"yes": _("Yes"), "partly": _("Partly"), "no": _("No")}
    return [Facts([(_("Score"), f"{s.score} / {s.max_score}"),
                   (_("Decision"), _("Go") if s.decision == "go" else _("No-go")),
                   (_("Date"), format_date(s.created_at))]),
            Table([_("Question"), _("Answer"), _("Note")],
                  [[ctx.questions.get(k, k), answers.get(a.get("answer", ""), a.get("answer", "")), a.get("note", "")]
                   for k, a in s.answers.items()])]


@register_section("schedule")
def schedule(ctx: SectionContext) -> list[Block]:
    _, e = ctx.gettext, ctx.evidence
    sch = e.schedule
    if not sch.total:
        return _empty(_("No milestones or tasks are planned yet."))
    nxt = sch.next_milestone
    blocks: list[Block] = [Facts([
        (_("Done"), f"{format_number(sch.percent_done)}% ({sch.done}/{sch.total})"), (_("Late items"), str(sch.late)),
        (_("Worst slippage (days)"), str(sch.worst_slip_days)),
        (_("Next milestone"), f"{nxt['name']} ({format_date(nxt['due_date'])})" if nxt else "—")])]
    critical = e.pmo.critical
    if ctx.with_charts and critical is not None:
        base = {t.task_id: t for t in e.pmo.baseline.tasks} if e.pmo.baseline else {}
        png = charts.gantt([(t.title, t.start, t.finish, t.critical,
                             base[t.id].baseline_start if t.id in base else None,
                             base[t.id].baseline_finish if t.id in base else None) for t in critical.tasks],
                           today=sch.today, labels={"today": _("Today"), "task": _("Task"),
                                                    "critical": _("Critical path"), "baseline": _("Baseline")})
        if png:
            blocks.append(Chart(png, _("Schedule (Gantt): critical path in red, baseline in grey"),
                                height_mm=min(200.0, 12 + 6 * min(len(critical.tasks), charts.MAX_GANTT_ROWS))))
    states = {"on_track": _("On track"), "late": _("Late"), "done": _("Done"), "done_late": _("Done late")}
    blocks.append(Table([_("Item"), _("Start"), _("Due"), _("Completed"), _("Status"), _("Days late")], [
        [it.name, format_date(it.start_date), format_date(it.due_date), format_date(it.completed_on),
         states.get(it.state, it.state), str(it.days_late or "")] for it in sch.items[:MAX_PLAN_ROWS]],
        numeric=frozenset({5})))
    return blocks


@register_section("critical_path")
def critical_path(ctx: SectionContext) -> list[Block]:
    _, critical = ctx.gettext, ctx.evidence.pmo.critical
    if critical is None or not critical.tasks:
        return _empty(_("No task dependencies are planned yet."))
    return [Facts([(_("Planned finish"), format_date(critical.finish)),
                   (_("Critical tasks"), str(len(critical.critical_path)))]),
            Table([_("Task"), _("Start"), _("Finish"), _("Float (days)")],
                  [[t.title, format_date(t.start), format_date(t.finish), format_number(t.float_days)]
                   for t in critical.critical_path[:SHOWN_ROWS]], numeric=frozenset({3}))]


@register_section("baseline")
def baseline(ctx: SectionContext) -> list[Block]:
    _, variance = ctx.gettext, ctx.evidence.pmo.baseline
    if variance is None:
        return _empty(_("No baseline has been saved yet."))
    moved = [t for t in variance.tasks if t.finish_variance_days]
    return [Facts([(_("Baseline"), f"{variance.name} ({format_date(variance.created_at)})"),
                   (_("Tasks off the baseline"), f"{len(moved)} / {len(variance.tasks)}")]),
            Table([_("Task"), _("Baseline finish"), _("Finish"), _("Variance (days)")],
                  [[t.title, format_date(t.baseline_finish), format_date(t.finish),
                    "—" if t.finish_variance_days is None else f"{t.finish_variance_days:+d}"]
                   for t in variance.tasks[:MAX_PLAN_ROWS]], numeric=frozenset({3}))]


@register_section("forecast")
def forecast(ctx: SectionContext) -> list[Block]:
    _, f = ctx.gettext, ctx.evidence.pmo.forecast
    if f is None or f.project.p50 is None:
        return _empty(_("No remaining work to forecast."))
    source = _("finished tasks") if f.source == "history" else _("a documented prior")
    blocks: list[Block] = [
        Facts([("P50", format_date(f.project.p50)), ("P85", format_date(f.project.p85)),
               (_("Draws"), format_number(f.draws)), (_("Pace from"), source)]),
    ]
    if ctx.with_charts:
        png = charts.forecast_histogram(f.histogram, p50=f.project.p50, p85=f.project.p85, due=f.project.due_date,
                                        labels={"due": _("Due"), "draws": _("Draws")})
        if png:
            blocks.append(Chart(png, _("Forecast finish date (Monte Carlo)"), height_mm=62))
    if f.milestones:
        blocks.append(Table([_("Milestone"), _("Due"), "P50", "P85", _("Probability of being late")],
                            [[m.name, format_date(m.due_date), format_date(m.p50), format_date(m.p85),
                              _pct(m.late_probability)] for m in f.milestones], numeric=frozenset({4})))
    return blocks


@register_section("risks")
def risks(ctx: SectionContext) -> list[Block]:
    _, found = ctx.gettext, ctx.evidence.pmo.risks
    if not found:
        return _empty(_("No risks are recorded."))
    status = {"open": _("Open"), "mitigating": _("Mitigating"), "closed": _("Closed")}
    return [Table([_("Risk"), _("Probability"), _("Impact"), _("Score"), _("Status"), _("Owner"), _("Mitigation"),
                   _("Raised by")],
                  [[r.title, str(r.probability), str(r.impact), str(r.score), status.get(r.status, r.status),
                    r.owner or "—", r.mitigation or "—", _("Manual") if r.source == "manual" else _("Evidence")]
                   for r in found[:SHOWN_ROWS]], numeric=frozenset({1, 2, 3}))]


@register_section("issues")
def issues(ctx: SectionContext) -> list[Block]:
    _, found = ctx.gettext, ctx.evidence.pmo.issues
    if not found:
        return _empty(_("No issues or change requests are recorded."))
    kinds = {"issue": _("Issue"), "change": _("Change request")}
    return [Table([_("Title"), _("Kind"), _("Status"), _("Decision")],
                  [[i.title, kinds.get(i.kind, i.kind), _status_word(_, i.status), _status_word(_, i.decision)]
                   for i in found[:SHOWN_ROWS]])]


def _status_word(_: Callable[[str], str], word: str) -> str:
    words = {"open": _("Open"), "closed": _("Closed"), "resolved": _("Resolved"), "approved": _("Approved"),
             "rejected": _("Rejected"), "pending": _("Pending"), "": "—", "none": "—"}
    return words.get(word, word)


@register_section("data")
def data(ctx: SectionContext) -> list[Block]:
    _, e = ctx.gettext, ctx.evidence
    if not e.datasets:
        return _empty(_("No datasets have been ingested yet."))
    blocks: list[Block] = [Table(
        [_("Dataset"), _("Version"), _("Rows"), _("Columns"), _("Created"), _("Most missing values")],
        [[d.summary.name, str(d.summary.version), format_number(d.summary.rows), format_number(d.summary.columns),
          format_date(d.summary.created_at),
          f"{d.most_missing.name} ({format_number(d.most_missing.missing_pct, 3)}%)" if d.most_missing
          else (_("none") if d.profiled else _("not profiled"))] for d in e.datasets],
        numeric=frozenset({1, 2, 3}))]
    for d in e.datasets:
        if d.profile_columns:
            blocks.append(Paragraph(f"{d.summary.name} v{d.summary.version}", "lead"))
            blocks.append(Table([_("Column"), _("Type"), _("Missing"), _("Distinct")],
                                [[c.name, c.dtype or "—", f"{format_number(c.missing_pct, 3)}%",
                                  format_number(c.distinct)] for c in d.profile_columns], numeric=frozenset({2, 3})))
    return blocks


@register_section("models")
def models(ctx: SectionContext) -> list[Block]:
    _, e = ctx.gettext, ctx.evidence
    if not e.leaderboard:
        return _empty(_("No models have been trained yet."))
    blocks: list[Block] = []
    best, entry = e.best, e.best_model
    plan = e.pmo
    if entry is not None:
        name = best.name if best else entry.engine
        items = [(_("Best model"), name), (_("Algorithm"), best.algorithm if best else entry.engine),
                 (entry.metric_name, format_number(entry.metric_value)), (_("Target column"), entry.target)]
        if plan.target_metric and plan.target_value is not None:
            reached = entry.metrics.get(plan.target_metric)
            verdict = ""
            if isinstance(reached, int | float):
                met = _meets(reached, plan.target_value, entry.higher_is_better)
                word = _("reached") if met else _("not reached")
                verdict = f" ({word})"
            items.append((_("Target metric"), f"{plan.target_metric} {format_number(plan.target_value)}{verdict}"))
        blocks.append(Facts(items))
    names = {m.run_id: m for m in plan.models}
    rows = [(names[r.run_id].name if r.run_id in names else r.engine, r) for r in e.leaderboard]
    if ctx.with_charts:
        scored = [(n, float(r.metric_value)) for n, r in rows if r.metric_value is not None]
        png = charts.horizontal_bars(scored, xlabel=e.leaderboard[0].metric_name,
                                     reference=plan.target_value if plan.target_metric == e.leaderboard[0].metric_name
                                     else None, reference_label=_("Target"))
        if png:
            blocks.append(Chart(png, _("Leaderboard"), height_mm=min(120.0, 16 + 8 * len(scored))))
    blocks.append(Table([_("Rank"), _("Model"), _("Algorithm"), _("Dataset"), _("Metric"), _("Value"), _("Stage")],
                        [[str(r.rank), n, names[r.run_id].algorithm if r.run_id in names else r.engine, r.dataset,
                          r.metric_name, format_number(r.metric_value),
                          _stage_word(_, names[r.run_id].stage if r.run_id in names else None)] for n, r in rows],
                        numeric=frozenset({0, 5})))
    return blocks


def _meets(value: Any, target: float, higher: bool) -> bool:
    return bool(value >= target) if higher else bool(value <= target)


def _stage_word(_: Callable[[str], str], stage: str | None) -> str:
    return {"staging": _("Staging"), "production": _("Production"), "archived": _("Archived"),
            None: "—"}.get(stage, stage or "—")


@register_section("services")
def services(ctx: SectionContext) -> list[Block]:
    _, e = ctx.gettext, ctx.evidence
    if not e.services:
        return _empty(_("No services are deployed yet."))
    levels = {s.name: s for s in e.pmo.service_levels}
    verdict = {True: _("Met"), False: _("Missed"), None: _("No objective")}
    states = {"running": _("Running"), "stopped": _("Stopped"), "failed": _("Failed"), "starting": _("Starting")}
    rows = []
    for t in e.services:
        level = levels.get(t.name)
        objective = "—"
        if level is not None:
            parts = [f"≤ {_pct(level.max_error_rate)}" if level.max_error_rate is not None else "",
                     f"p95 ≤ {format_number(level.max_latency_p95_ms)} ms"
                     if level.max_latency_p95_ms is not None else ""]
            objective = " · ".join(x for x in parts if x) or "—"
        rows.append([t.name, t.model_version or "—", states.get(t.state, t.state), format_number(t.requests),
                     _pct(t.errors / t.requests if t.requests else None), format_number(t.latency_p95_ms),
                     objective, verdict[level.attained if level else None],
                     f"{format_number(level.cost)} {level.currency}" if level else "—"])
    return [Table([_("Service"), _("Model version"), _("State"), _("Requests (24 h)"), _("Error rate"),
                   _("Latency p95 (ms)"), _("Objective"), _("Attained"), _("Cost")], rows,
                  numeric=frozenset({3, 4, 5, 8}))]


@register_section("monitoring")
def monitoring(ctx: SectionContext) -> list[Block]:
    _, pmo = ctx.gettext, ctx.evidence.pmo
    blocks: list[Block] = []
    for drift in pmo.drift:
        latest = drift.latest
        if latest is None:
            continue
        blocks.append(Facts([(_("Service"), drift.service), (_("Window"), format_date(latest.window_start)),
                             (_("Drifting features"), f"{len(latest.drifted_columns)} / {len(latest.columns)}")]))
        scores = sorted(((name, float(col.get("score") or 0.0), bool(col.get("drift")))
                         for name, col in latest.columns.items()), key=lambda x: -x[1])
        if ctx.with_charts:
            png = charts.horizontal_bars([(n, s) for n, s, _d in scores], xlabel=_("Drift score"),
                                         colours=[charts.RED if d else charts.BLUE for *_x, d in scores])
            if png:
                blocks.append(Chart(png, _("Drift per feature (red: drifting)"),
                                    height_mm=min(110.0, 16 + 7 * len(scores))))
    if pmo.alerts:
        blocks.append(Table([_("Fired"), _("Service"), _("Metric"), _("Value"), _("Threshold")],
                            [[a.fired_at.strftime("%Y-%m-%d %H:%M"), a.service, a.metric, format_number(a.value),
                              format_number(a.threshold)] for a in pmo.alerts], numeric=frozenset({3, 4})))
    return blocks or _empty(_("No drift measured and no alerts fired."))


@register_section("value")
def value(ctx: SectionContext) -> list[Block]:
    _, pmo = ctx.gettext, ctx.evidence.pmo
    if not pmo.kpis:
        return _empty(_("No value tree is defined yet."))
    blocks: list[Block] = []
    if pmo.total_benefit is not None:
        blocks.append(Facts([(_("Benefit so far"), f"{format_number(pmo.total_benefit)} {pmo.currency}"),
                             (_("Cost so far"), f"{format_number(pmo.total_cost or 0.0)} {pmo.currency}")]))
    if ctx.with_charts:
        png = charts.target_vs_actual([(k.name, k.baseline, k.target, k.actual) for k in pmo.kpis],
                                      labels={"baseline": _("Baseline"), "target": _("Target"), "actual": _("Actual"),
                                              "axis": _("% of target")})
        if png:
            blocks.append(Chart(png, _("KPI target vs actual"), height_mm=min(110.0, 18 + 9 * len(pmo.kpis))))
    blocks.append(Table([_("KPI"), _("Unit"), _("Baseline"), _("Target"), _("Actual"), _("Progress")],
                        [[k.name, k.unit, format_number(k.baseline), format_number(k.target),
                          format_number(k.actual), _pct(k.progress)] for k in pmo.kpis],
                        numeric=frozenset({2, 3, 4, 5})))
    return blocks


@register_section("team")
def team(ctx: SectionContext) -> list[Block]:
    """Building the AI team in house vs a managed service, over the comparison's years (team domain)."""
    _, t = ctx.gettext, ctx.evidence.team
    if t is None:
        return _empty(_("No team comparison yet."))
    blocks: list[Block] = [
        Paragraph(_("Team sized by the peak need of each role in the plan.") if t.basis == "plan"
                  else _("No needs stated yet: a reference team of five is compared."), "muted"),
        Facts([(f"{_('In house')} ({t.currency})", format_number(t.in_house.total)),
               (f"{_('Managed service')} ({t.currency})", format_number(t.managed.total)),
               (f"{_('In house')} · {_('Time to first value (months)')}", str(t.in_house.time_to_first_value_months)),
               (f"{_('Managed service')} · {_('Time to first value (months)')}",
                str(t.managed.time_to_first_value_months))])]
    if ctx.with_charts:
        bars = [(f"{_('Year {n}').format(n=y.year)} · {name}", y.total)
                for option, name in ((t.in_house, _("In house")), (t.managed, _("Managed service")))
                for y in option.years]
        png = charts.horizontal_bars(bars, xlabel=t.currency,
                                     colours=[charts.BLUE] * len(t.in_house.years) + ["#0d9488"] * len(t.managed.years))
        if png:
            blocks.append(Chart(png, _("Build in house or use a managed service"),
                                height_mm=min(110.0, 20 + 8 * len(bars))))
    blocks.append(Table([_("Option"), _("Staff"), _("Hiring"), _("Tooling"), _("Infrastructure"), _("Service fee"),
                         _("Total")],
                        [[f"{_('In house') if option is t.in_house else _('Managed service')} · "
                          f"{_('Year {n}').format(n=y.year)}", format_number(y.staff), format_number(y.hiring),
                          format_number(y.tooling), format_number(y.infrastructure), format_number(y.service_fee),
                          format_number(y.total)]
                         for option in (t.in_house, t.managed) for y in option.years],
                        numeric=frozenset({1, 2, 3, 4, 5, 6})))
    return blocks
