"""The client communication log: meetings with their action items (each one a task of the plan) and client
requests with a response deadline (overdue when unanswered past it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.comms.models import ActionItem, ClientRequest, Meeting
from mlpilot.comms.schemas import ActionItemCreate, ActionItemRead, MeetingRead, RequestRead
from mlpilot.core.db import unit_of_work
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.pmo import service as pmo_service
from mlpilot.projects import service as projects_service

MAX_LISTED = 500


def _text(value: str, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} is empty; write something.")
    if len(value) > limit:
        raise InvalidInput(f"{what} is {len(value)} characters long; at most {limit} are allowed.")
    return value


def get_meeting(session: Session, *, project_id: int, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.project_id != project_id:
        raise NotFound(f"Meeting {meeting_id} does not exist in project {project_id}.")
    return meeting


def meeting_read(session: Session, meeting: Meeting) -> MeetingRead:
    items = session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting.id).order_by(ActionItem.id))
    read = MeetingRead.model_validate(meeting)
    read.action_items = [ActionItemRead.model_validate(item) for item in items]
    return read


def list_meetings(session: Session, *, project_id: int) -> list[MeetingRead]:
    """The project's meetings, newest first, each with its action items."""
    meetings = session.scalars(select(Meeting).where(Meeting.project_id == project_id)
                               .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(MAX_LISTED))
    return [meeting_read(session, m) for m in meetings]


def log_meeting(session: Session, *, project_id: int, user: User, title: str, held_on: dt.date,
                attendees: str = "", minutes: str = "", decisions: str = "",
                action_items: list[ActionItemCreate] | None = None) -> MeetingRead:
    """Record a meeting; every action item becomes a task of the plan (due on its date, owned by a member)."""
    title = _text(title, "Meeting title", 200)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        meeting = Meeting(project_id=project_id, title=title, held_on=held_on, attendees=attendees.strip(),
                          minutes=minutes.strip(), decisions=decisions.strip(), created_by_id=user.id)
        session.add(meeting)
        session.flush()
        for item in action_items or []:
            item_title = _text(item.title, "Action item", 300)
            if item.due_date < held_on:
                raise InvalidInput(f"Action item {item_title!r}: due date {item.due_date.isoformat()} is before the "
                                   f"meeting ({held_on.isoformat()}); it cannot be due before it was agreed.")
            task = pmo_service.create_task(session, project_id=project_id, user=user, title=item_title,
                                           start_date=held_on, due_date=item.due_date, owner_id=item.owner_id)
            session.add(ActionItem(meeting_id=meeting.id, project_id=project_id, title=item_title,
                                   owner_id=item.owner_id, due_date=item.due_date, task_id=task.id))
        session.flush()
    return meeting_read(session, meeting)


def delete_meeting(session: Session, *, project_id: int, meeting_id: int, user: User) -> None:
    """Remove a meeting from the log (its action items' tasks stay in the plan)."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        meeting = get_meeting(session, project_id=project_id, meeting_id=meeting_id)
        for item in session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting.id)):
            session.delete(item)
        session.delete(meeting)


def _request_read(request: ClientRequest, today: dt.date) -> RequestRead:
    read = RequestRead.model_validate(request)
    read.overdue = request.answered_on is None and request.respond_by < today
    return read


def get_request(session: Session, *, project_id: int, request_id: int) -> ClientRequest:
    request = session.get(ClientRequest, request_id)
    if request is None or request.project_id != project_id:
        raise NotFound(f"Client request {request_id} does not exist in project {project_id}.")
    return request


def list_requests(session: Session, *, project_id: int, today: dt.date | None = None) -> list[RequestRead]:
    """The client's requests: open ones first by deadline, then answered ones, newest first."""
    today = today or dt.date.today()
    rows = list(session.scalars(select(ClientRequest).where(ClientRequest.project_id == project_id)
                                .order_by(ClientRequest.respond_by, ClientRequest.id).limit(MAX_LISTED)))
    open_rows = [r for r in rows if r.answered_on is None]
    answered = sorted((r for r in rows if r.answered_on is not None), key=lambda r: r.id, reverse=True)
    return [_request_read(r, today) for r in open_rows + answered]


def add_request(session: Session, *, project_id: int, user: User, title: str, received_on: dt.date,
                respond_by: dt.date, details: str = "", requested_by: str = "") -> RequestRead:
    """Log a client request with the date it must be answered by."""
    title = _text(title, "Request title", 300)
    if respond_by < received_on:
        raise InvalidInput(f"respond_by {respond_by.isoformat()} is before received_on {received_on.isoformat()}; "
                           "the answer cannot be due before the request arrived.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        request = ClientRequest(project_id=project_id, title=title, details=details.strip(),
                                requested_by=requested_by.strip()[:200], received_on=received_on,
                                respond_by=respond_by)
        session.add(request)
        session.flush()
    return _request_read(request, dt.date.today())


def answer_request(session: Session, *, project_id: int, request_id: int, user: User, response: str,
                   answered_on: dt.date | None = None) -> RequestRead:
    """Record the answer to a client request and who gave it."""
    response = _text(response, "Response", 20_000)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        request = get_request(session, project_id=project_id, request_id=request_id)
        answered_on = answered_on or dt.date.today()
        if answered_on < request.received_on:
            raise InvalidInput(f"answered_on {answered_on.isoformat()} is before the request arrived "
                               f"({request.received_on.isoformat()}).")
        request.response, request.answered_by_id, request.answered_on = response, user.id, answered_on
    return _request_read(request, dt.date.today())
