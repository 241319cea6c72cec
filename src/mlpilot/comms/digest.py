"""The weekly client digest: schedule, forecast, risks, model and service figures, requests and deliverables,
computed from the other domains' typed services, rendered as a plain-text e-mail (ko/en), sent through the
notifications domain's SMTP settings and kept in the communication log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.comms import log as comms_log
from mlpilot.comms import mail
from mlpilot.comms.models import Deliverable, DeliverableStatus, DigestSchedule, EmailLog
from mlpilot.comms.schemas import (
    Digest,
    DigestMilestone,
    DigestModel,
    DigestRisk,
    DigestScheduleUpdate,
    DigestService,
)
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import InvalidInput
from mlpilot.core.i18n import get_translations
from mlpilot.monitoring import service as monitoring_service
from mlpilot.pmo import forecast as pmo_forecast
from mlpilot.pmo import service as pmo_service
from mlpilot.projects import service as projects_service
from mlpilot.risks import service as risks_service
from mlpilot.risks.models import RiskStatus
from mlpilot.settings import Settings
from mlpilot.training import service as training_service

TOP_RISKS = 5
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def compose(session: Session, *, project_id: int, today: dt.date | None = None) -> Digest:
    """Compute the digest's figures from the project's live plan, risks, runs and services."""
    today = today or dt.date.today()
    project = projects_service.get_project(session, project_id=project_id)
    schedule = pmo_service.schedule_summary(session, project_id=project_id, today=today)
    outlook = pmo_forecast.forecast(session, project_id=project_id, today=today)
    p85 = {point.id: point.p85 for point in outlook.milestones}
    milestones = [DigestMilestone(name=m.name, due_date=m.due_date, completed_on=m.completed_on, p85=p85.get(m.id))
                  for m in pmo_service.list_milestones(session, project_id=project_id)]
    risks = [r for r in risks_service.list_risks(session, project_id=project_id) if r.status != RiskStatus.closed]
    training = training_service.project_summary(session, project_id=project_id)
    best = training.best
    services = [DigestService(name=s.name, state=s.state, requests=s.requests, errors=s.errors,
                              error_rate=round(s.errors / s.requests, 4) if s.requests else None,
                              latency_p95_ms=s.latency_p95_ms)
                for s in monitoring_service.summarize_project_services(session, project_id=project_id, hours=24 * 7)]
    requests = comms_log.list_requests(session, project_id=project_id, today=today)
    counts = dict(session.execute(select(Deliverable.status, func.count()).where(Deliverable.project_id == project_id)
                                  .group_by(Deliverable.status)).tuples().all())
    return Digest(
        project_id=project.id, project_name=project.name, client=project.client, week=iso_week(today),
        generated_on=today, percent_done=schedule.percent_done, late_items=schedule.late,
        worst_slip_days=schedule.worst_slip_days, forecast_p50=outlook.project.p50, forecast_p85=outlook.project.p85,
        milestones=milestones, open_risks=len(risks),
        top_risks=[DigestRisk(title=r.title, score=r.score, status=r.status, source=r.source)
                   for r in risks[:TOP_RISKS]],
        best_model=None if best is None else DigestModel(run_id=best.run_id, engine=best.engine,
                                                         metric_name=best.metric_name, metric_value=best.metric_value),
        services=services, open_requests=sum(1 for r in requests if r.answered_on is None),
        overdue_requests=sum(1 for r in requests if r.overdue),
        deliverables_awaiting=counts.get(DeliverableStatus.awaiting, 0),
        deliverables_rejected=counts.get(DeliverableStatus.rejected, 0))


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


def render_text(digest: Digest, *, locale: str = "en") -> tuple[str, str]:
    """The digest as an e-mail: (subject, plain text) in `locale`."""
    _ = get_translations(locale).gettext
    subject = _("[mlpilot] Weekly digest %(week)s: %(project)s") % {"week": digest.week,
                                                                      "project": digest.project_name}
    lines = [_("Weekly digest of %(project)s (%(week)s)") % {"project": digest.project_name, "week": digest.week}, ""]
    def heading(title: str) -> str:
        return f"== {title} =="

    lines += [heading(_("Schedule")),
              _("Done: %(pct)s%%, late items: %(late)s, worst slip: %(slip)s days") % {
                  "pct": digest.percent_done, "late": digest.late_items, "slip": digest.worst_slip_days},
              _("Forecast finish: P50 %(p50)s, P85 %(p85)s") % {"p50": _date(digest.forecast_p50),
                                                                 "p85": _date(digest.forecast_p85)}]
    for m in digest.milestones:
        state = (_("reached %(date)s") % {"date": _date(m.completed_on)} if m.completed_on
                 else _("due %(due)s, P85 %(p85)s") % {"due": _date(m.due_date), "p85": _date(m.p85)})
        lines.append(f"- {m.name}: {state}")
    lines += ["", heading(_("Risks")), _("Open risks: %(n)s") % {"n": digest.open_risks}]
    lines += [f"- [{r.score}] {r.title}" for r in digest.top_risks]
    lines += ["", heading(_("Model"))]
    if digest.best_model is None:
        lines.append(_("No finished training run yet."))
    else:
        b = digest.best_model
        value = "—" if b.metric_value is None else f"{b.metric_value:.4g}"
        lines.append(_("Best run %(run)s (%(engine)s): %(metric)s = %(value)s") % {
            "run": b.run_id, "engine": b.engine, "metric": b.metric_name, "value": value})
    lines += ["", heading(_("Services (last 7 days)"))]
    if not digest.services:
        lines.append(_("No service deployed yet."))
    for s in digest.services:
        rate = "—" if s.error_rate is None else f"{s.error_rate * 100:.2f}%"
        p95 = "—" if s.latency_p95_ms is None else f"{s.latency_p95_ms:.1f} ms"
        lines.append(_("- %(name)s: %(requests)s requests, error rate %(rate)s, p95 %(p95)s") % {
            "name": s.name, "requests": s.requests, "rate": rate, "p95": p95})
    lines += ["", heading(_("Client requests and deliverables")),
              _("Open requests: %(open)s (overdue: %(overdue)s)") % {"open": digest.open_requests,
                                                                      "overdue": digest.overdue_requests},
              _("Deliverables awaiting your approval: %(n)s, rejected: %(r)s") % {
                  "n": digest.deliverables_awaiting, "r": digest.deliverables_rejected}]
    return subject, "\n".join(lines) + "\n"


def get_schedule(session: Session, *, project_id: int) -> DigestSchedule:
    """The project's digest settings (not stored yet: disabled, no recipients)."""
    row = session.get(DigestSchedule, project_id)
    return row if row is not None else DigestSchedule(project_id=project_id, recipients="", weekday=0, locale="en",
                                                      enabled=False, last_sent_week=None)


def set_schedule(session: Session, *, project_id: int, user: User, changes: DigestScheduleUpdate) -> DigestSchedule:
    """Set who receives the weekly digest, on which weekday, in which language."""
    recipients = ", ".join(mail.parse_recipients(changes.recipients)) if changes.recipients.strip() else ""
    if changes.enabled and not recipients:
        raise InvalidInput("The weekly digest needs at least one recipient before it can be turned on.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        row = session.get(DigestSchedule, project_id)
        if row is None:
            row = DigestSchedule(project_id=project_id)
            session.add(row)
        row.recipients, row.weekday, row.locale, row.enabled = (recipients, changes.weekday, changes.locale,
                                                                changes.enabled)
        session.flush()
    return row


def send_digest(session: Session, *, settings: Settings, project_id: int, user: User | None,
                recipients: str | None = None, today: dt.date | None = None) -> EmailLog:
    """Compose the digest, keep it in the log and try to send it now (retried by the worker if the server is down)."""
    schedule = get_schedule(session, project_id=project_id)
    to = recipients if recipients is not None else schedule.recipients
    if not to.strip():
        raise InvalidInput("No recipient for the digest: set the digest's recipients first.")
    if user is not None:
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
    subject, text = render_text(compose(session, project_id=project_id, today=today), locale=schedule.locale)
    email = mail.queue_email(session, project_id=project_id, user=user, recipients=to, subject=subject, body=text,
                             kind="digest")
    return mail.send_now(session, settings=settings, email=email)


def due_schedules(session: Session, *, today: dt.date) -> list[int]:
    """Projects whose digest is due: enabled, its weekday reached this ISO week, not yet sent this week."""
    week = iso_week(today)
    rows = session.scalars(select(DigestSchedule).where(DigestSchedule.enabled.is_(True)))
    return [r.project_id for r in rows if r.recipients and today.weekday() >= r.weekday and r.last_sent_week != week]


def send_weekly(session: Session, *, settings: Settings, now: dt.datetime | None = None) -> int:
    """Compose every due weekly digest once and try to send it; return how many went out.

    The week is marked before the attempt: a digest the server refused is retried as its e-mail, not composed again.
    """
    today = (now or utcnow()).date()
    sent = 0
    for project_id in due_schedules(session, today=today):
        with unit_of_work(session):
            row = session.get(DigestSchedule, project_id)
            assert row is not None  # listed just above; schedules go only with their project
            row.last_sent_week = iso_week(today)
        email = send_digest(session, settings=settings, project_id=project_id, user=None, today=today)
        sent += email.state == "sent"
    return sent
