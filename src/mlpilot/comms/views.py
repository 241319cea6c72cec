"""Pages of the comms domain: a project's communication log (meetings, client requests, e-mails, the weekly
digest) and its deliverables with the client's approval forms. Forms post back and return to the page, showing
a refusal there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mlpilot.accounts.models import ROLE_RANK, Role
from mlpilot.comms import deliverables, digest, log, mail
from mlpilot.comms.schemas import ActionItemCreate, DeliverableCreate, DigestScheduleUpdate
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import InvalidInput, MlpilotError
from mlpilot.core.i18n import get_translations
from mlpilot.datasets import service as datasets_service
from mlpilot.pmo import service as pmo_service
from mlpilot.projects import service as projects_service
from mlpilot.registry import service as registry_service
from mlpilot.serving import service as serving_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render, request_locale

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=20_000)]
Short = Annotated[str, Form(max_length=300)]
Long = Annotated[str, Form(max_length=1000)]
ItemId = Annotated[int, Path(ge=1, le=INT64_MAX)]
ACTION_ROWS = 3


def _url(project_id: int, page: str, *, error: str | None = None, notice: str | None = None, anchor: str = "") -> str:
    query = urlencode({k: v for k, v in (("error", error), ("notice", notice)) if v})
    return f"/projects/{project_id}/{page}" + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def _done(project_id: int, page: str, action: Callable[[], object], anchor: str) -> Response:
    """Run a form's action and come back to the page, with the refusal or the notice shown there."""
    try:
        notice = action()
    except MlpilotError as exc:
        return RedirectResponse(_url(project_id, page, error=exc.detail, anchor=anchor), status_code=303)
    except ValidationError as exc:
        first = exc.errors()[0]
        detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return RedirectResponse(_url(project_id, page, error=detail, anchor=anchor), status_code=303)
    return RedirectResponse(_url(project_id, page, notice=notice if isinstance(notice, str) else None,
                                 anchor=anchor), status_code=303)


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {value.strip()[:40]!r} is not a date; expected YYYY-MM-DD.") from None


def _int(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value[:40]!r} is not a whole number.") from None


def _can_write(role: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role.member]


@router.get("/projects/{project_id}/communication", response_class=HTMLResponse, dependencies=[access.Project.read])
def communication_page(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    locale = request_locale(request, user)
    schedule = digest.get_schedule(session, project_id=project_id)
    figures = digest.compose(session, project_id=project_id)
    subject, preview = digest.render_text(figures, locale=locale)
    members = {u.id: u.username for _m, u in projects_service.list_members(session, project_id=project_id)}
    return render(request, "comms/communication.html", user=user, p=project,
                  meetings=log.list_meetings(session, project_id=project_id),
                  requests=log.list_requests(session, project_id=project_id),
                  emails=mail.list_emails(session, project_id=project_id), schedule=schedule,
                  digest=figures, digest_subject=subject, digest_preview=preview, members=members,
                  action_rows=range(ACTION_ROWS), today=dt.date.today(), can_write=_can_write(user.role),
                  weekdays=digest.WEEKDAYS, error=request.query_params.get("error"),
                  notice=request.query_params.get("notice"))


@router.post("/projects/{project_id}/communication/_meeting", dependencies=[access.Project.write])
async def add_meeting(project_id: int, request: Request, session: DbSession, user: PageUser) -> Response:
    form = await request.form()

    def field(name: str, limit: int = 300) -> str:
        value = str(form.get(name) or "")
        if len(value) > limit:
            raise InvalidInput(f"{name} is {len(value)} characters long; at most {limit} are allowed.")
        return value

    def act() -> str:
        held_on = _date(field("held_on"), "held_on")
        items = []
        for n in range(ACTION_ROWS):
            title = field(f"action_{n}").strip()
            if not title:
                continue
            due = field(f"action_due_{n}").strip()
            items.append(ActionItemCreate.model_validate({
                "title": title, "owner_id": _int(field(f"action_owner_{n}"), "owner"),
                "due_date": _date(due, "action item due date") if due else held_on + dt.timedelta(days=7)}))
        meeting = log.log_meeting(session, project_id=project_id, user=user, title=field("title", 200),
                                  held_on=held_on, attendees=field("attendees", 2000),
                                  minutes=field("minutes", 20_000), decisions=field("decisions", 20_000),
                                  action_items=items)
        _ = get_translations(request_locale(request, user)).gettext
        return _("Meeting logged; %(n)s action items added to the plan as tasks.") % {"n": len(meeting.action_items)}
    return _done(project_id, "communication", act, "meetings")


@router.post("/projects/{project_id}/communication/_request", dependencies=[access.Project.write])
def add_request(project_id: int, session: DbSession, user: PageUser, title: Short, received_on: Short,
                respond_by: Short, details: Text = "", requested_by: Short = "") -> Response:
    return _done(project_id, "communication", lambda: log.add_request(
        session, project_id=project_id, user=user, title=title, received_on=_date(received_on, "received_on"),
        respond_by=_date(respond_by, "respond_by"), details=details, requested_by=requested_by), "requests")


@router.post("/projects/{project_id}/communication/requests/{request_id}/_answer",
             dependencies=[access.Project.write])
def answer_request(project_id: int, request_id: ItemId, session: DbSession, user: PageUser, response: Text) -> Response:
    return _done(project_id, "communication", lambda: log.answer_request(
        session, project_id=project_id, request_id=request_id, user=user, response=response), "requests")


@router.post("/projects/{project_id}/communication/_email", dependencies=[access.Project.write])
def send_email(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
               recipients: Long, subject: Short, body: Text) -> Response:
    _ = get_translations(request_locale(request, user)).gettext

    def act() -> str:
        email = mail.queue_email(session, project_id=project_id, user=user, recipients=recipients, subject=subject,
                                 body=body)
        email = mail.send_now(session, settings=runtime.settings, email=email)
        return _("E-mail sent.") if email.state == "sent" else _(
            "The mail server did not accept the e-mail; it stays pending and is retried.")
    return _done(project_id, "communication", act, "emails")


@router.post("/projects/{project_id}/communication/emails/{email_id}/_retry", dependencies=[access.Project.write])
def retry_email(project_id: int, email_id: ItemId, session: DbSession, runtime: RuntimeDep, user: PageUser) -> Response:
    def act() -> None:
        email = mail.retry_email(session, project_id=project_id, email_id=email_id, user=user)
        mail.send_now(session, settings=runtime.settings, email=email)
    return _done(project_id, "communication", act, "emails")


@router.post("/projects/{project_id}/communication/_digest_schedule", dependencies=[access.Project.write])
def set_schedule(project_id: int, session: DbSession, user: PageUser, recipients: Long = "", weekday: Short = "0",
                 locale: Short = "en", enabled: Short = "") -> Response:
    return _done(project_id, "communication", lambda: digest.set_schedule(
        session, project_id=project_id, user=user, changes=DigestScheduleUpdate.model_validate({
            "recipients": recipients, "weekday": _int(weekday, "weekday") or 0, "locale": locale,
            "enabled": bool(enabled)})), "digest")


@router.post("/projects/{project_id}/communication/_digest_send", dependencies=[access.Project.write])
def send_digest(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                user: PageUser) -> Response:
    _ = get_translations(request_locale(request, user)).gettext

    def act() -> str:
        email = digest.send_digest(session, settings=runtime.settings, project_id=project_id, user=user)
        return _("Digest sent.") if email.state == "sent" else _(
            "The mail server did not accept the digest; it stays pending and is retried.")
    return _done(project_id, "communication", act, "digest")


@router.get("/projects/{project_id}/deliverables", response_class=HTMLResponse, dependencies=[access.Project.read])
def deliverables_page(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    can_write = _can_write(user.role)
    signer = user.role == Role.client and projects_service.is_member(session, project_id=project_id,
                                                                     user_id=user.id)
    milestones = pmo_service.list_milestones(session, project_id=project_id)
    items = deliverables.list_deliverables(session, project_id=project_id)
    by_milestone = {m.id: [d for d in items if d.milestone_id == m.id] for m in milestones}
    choices: dict[str, list[tuple[str, str]]] = {"dataset": [], "model": [], "service": []}
    if can_write:
        choices["dataset"] = [(str(v.id), f"{v.dataset.name} v{v.version}")
                              for v in datasets_service.list_project_versions(session, project_id=project_id)[:200]]
        choices["model"] = [(str(m.id), f"{m.name} v{m.version}")
                            for m in registry_service.list_model_versions(session, project_id=project_id)[:200]]
        choices["service"] = [(s.name, s.display_name or s.name)
                              for s in serving_service.list_services(session, project_id=project_id)]
    return render(request, "comms/deliverables.html", user=user, p=project, milestones=milestones,
                  by_milestone=by_milestone, awaiting=sum(d.status == "awaiting" for d in items),
                  audit=deliverables.list_decisions(session, project_id=project_id), choices=choices,
                  can_write=can_write, signer=signer, error=request.query_params.get("error"),
                  notice=request.query_params.get("notice"))


@router.post("/projects/{project_id}/deliverables/_add", dependencies=[access.Project.write])
def add_deliverable(project_id: int, session: DbSession, user: PageUser, milestone_id: Short, kind: Short,
                    name: Short, description: Text = "", version: Short = "", dataset_version_id: Short = "",
                    model_version_id: Short = "", service_name: Short = "", link: Long = "") -> Response:
    return _done(project_id, "deliverables", lambda: deliverables.add_deliverable(
        session, project_id=project_id, user=user, body=DeliverableCreate.model_validate({
            "milestone_id": _int(milestone_id, "milestone_id"), "kind": kind, "name": name,
            "description": description, "version": version,
            "dataset_version_id": _int(dataset_version_id, "dataset_version_id"),
            "model_version_id": _int(model_version_id, "model_version_id"),
            "service_name": service_name.strip() or None, "link": link})), "add")


@router.post("/projects/{project_id}/deliverables/{deliverable_id}/_decide", dependencies=[access.Project.read])
def decide(project_id: int, deliverable_id: ItemId, request: Request, session: DbSession, user: PageUser,
           decision: Short, comment: Text = "") -> Response:
    _ = get_translations(request_locale(request, user)).gettext

    def act() -> str:
        made = deliverables.decide(session, project_id=project_id, deliverable_id=deliverable_id, user=user,
                                   decision=decision, comment=comment)
        return _("Deliverable approved.") if made.status == "approved" else _("Deliverable rejected.")
    return _done(project_id, "deliverables", act, f"deliverable-{deliverable_id}")


@router.post("/projects/{project_id}/deliverables/{deliverable_id}/_resubmit", dependencies=[access.Project.write])
def resubmit(project_id: int, deliverable_id: ItemId, session: DbSession, user: PageUser, version: Short = "",
             comment: Text = "") -> Response:
    return _done(project_id, "deliverables", lambda: deliverables.resubmit(
        session, project_id=project_id, deliverable_id=deliverable_id, user=user, version=version,
        comment=comment), f"deliverable-{deliverable_id}")


@router.post("/projects/{project_id}/deliverables/{deliverable_id}/_delete", dependencies=[access.Project.write])
def delete(project_id: int, deliverable_id: ItemId, session: DbSession, user: PageUser) -> Response:
    return _done(project_id, "deliverables", lambda: deliverables.delete_deliverable(
        session, project_id=project_id, deliverable_id=deliverable_id, user=user), "milestones")


@router.post("/projects/{project_id}/deliverables/milestones/{milestone_id}/_close",
             dependencies=[access.Project.write])
def close_milestone(project_id: int, milestone_id: ItemId, request: Request, session: DbSession,
                    user: PageUser) -> Response:
    _ = get_translations(request_locale(request, user)).gettext

    def act() -> str:
        pmo_service.complete_milestone(session, project_id=project_id, milestone_id=milestone_id, user=user)
        return _("Milestone marked as reached.")
    return _done(project_id, "deliverables", act, f"milestone-{milestone_id}")
