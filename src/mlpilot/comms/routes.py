"""REST routes of the comms domain: meetings, client requests, e-mails, the weekly digest, deliverables and the
client's sign-off. Writes need a member of the project; only a client user of the project signs off."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from mlpilot.accounts.deps import CurrentUser
from mlpilot.comms import deliverables, digest, log, mail
from mlpilot.comms.schemas import (
    DecisionRead,
    DeliverableCreate,
    DeliverableDecide,
    DeliverableRead,
    Digest,
    DigestScheduleRead,
    DigestScheduleUpdate,
    EmailCreate,
    EmailRead,
    MeetingCreate,
    MeetingRead,
    RequestAnswer,
    RequestCreate,
    RequestRead,
)
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.projects.deps import ProjectAccess
from mlpilot.web import access

router = APIRouter(tags=["comms"])
project_router = APIRouter(prefix="/projects/{project_id}")
ItemId = Annotated[int, Path(ge=1, le=INT64_MAX)]


@project_router.get("/meetings", response_model=list[MeetingRead])
def list_meetings(project: ProjectAccess, session: DbSession) -> list[MeetingRead]:
    return log.list_meetings(session, project_id=project.id)


@project_router.post("/meetings", response_model=MeetingRead, status_code=201, dependencies=[access.Project.write])
def log_meeting(project_id: int, body: MeetingCreate, session: DbSession, user: CurrentUser) -> MeetingRead:
    return log.log_meeting(session, project_id=project_id, user=user, title=body.title, held_on=body.held_on,
                           attendees=body.attendees, minutes=body.minutes, decisions=body.decisions,
                           action_items=body.action_items)


@project_router.get("/meetings/{meeting_id}", response_model=MeetingRead)
def get_meeting(project: ProjectAccess, meeting_id: ItemId, session: DbSession) -> MeetingRead:
    return log.meeting_read(session, log.get_meeting(session, project_id=project.id, meeting_id=meeting_id))


@project_router.delete("/meetings/{meeting_id}", status_code=204, dependencies=[access.Project.write])
def delete_meeting(project_id: int, meeting_id: ItemId, session: DbSession, user: CurrentUser) -> None:
    log.delete_meeting(session, project_id=project_id, meeting_id=meeting_id, user=user)


@project_router.get("/client-requests", response_model=list[RequestRead])
def list_requests(project: ProjectAccess, session: DbSession) -> list[RequestRead]:
    return log.list_requests(session, project_id=project.id)


@project_router.post("/client-requests", response_model=RequestRead, status_code=201,
                     dependencies=[access.Project.write])
def add_request(project_id: int, body: RequestCreate, session: DbSession, user: CurrentUser) -> RequestRead:
    return log.add_request(session, project_id=project_id, user=user, **body.model_dump())


@project_router.post("/client-requests/{request_id}/answer", response_model=RequestRead,
                     dependencies=[access.Project.write])
def answer_request(project_id: int, request_id: ItemId, body: RequestAnswer, session: DbSession,
                   user: CurrentUser) -> RequestRead:
    return log.answer_request(session, project_id=project_id, request_id=request_id, user=user,
                              response=body.response, answered_on=body.answered_on)


@project_router.get("/emails", response_model=list[EmailRead])
def list_emails(project: ProjectAccess, session: DbSession) -> list[EmailRead]:
    return [EmailRead.model_validate(e) for e in mail.list_emails(session, project_id=project.id)]


@project_router.post("/emails", response_model=EmailRead, status_code=201, dependencies=[access.Project.write])
def send_email(project_id: int, body: EmailCreate, session: DbSession, runtime: RuntimeDep,
               user: CurrentUser) -> EmailRead:
    """Send an e-mail to the client now; if the SMTP server is down it stays pending and is retried."""
    email = mail.queue_email(session, project_id=project_id, user=user, recipients=body.recipients,
                             subject=body.subject, body=body.body)
    return EmailRead.model_validate(mail.send_now(session, settings=runtime.settings, email=email))


@project_router.post("/emails/{email_id}/retry", response_model=EmailRead, dependencies=[access.Project.write])
def retry_email(project_id: int, email_id: ItemId, session: DbSession, runtime: RuntimeDep,
                user: CurrentUser) -> EmailRead:
    email = mail.retry_email(session, project_id=project_id, email_id=email_id, user=user)
    return EmailRead.model_validate(mail.send_now(session, settings=runtime.settings, email=email))


@project_router.get("/digest", response_model=Digest)
def preview_digest(project: ProjectAccess, session: DbSession) -> Digest:
    """This week's client digest as figures (what the e-mail says)."""
    return digest.compose(session, project_id=project.id)


@project_router.get("/digest/schedule", response_model=DigestScheduleRead)
def digest_schedule(project: ProjectAccess, session: DbSession) -> DigestScheduleRead:
    return DigestScheduleRead.model_validate(digest.get_schedule(session, project_id=project.id))


@project_router.put("/digest/schedule", response_model=DigestScheduleRead, dependencies=[access.Project.write])
def set_digest_schedule(project_id: int, body: DigestScheduleUpdate, session: DbSession,
                        user: CurrentUser) -> DigestScheduleRead:
    return DigestScheduleRead.model_validate(digest.set_schedule(session, project_id=project_id, user=user,
                                                                 changes=body))


@project_router.post("/digest/send", response_model=EmailRead, status_code=201, dependencies=[access.Project.write])
def send_digest(project_id: int, session: DbSession, runtime: RuntimeDep, user: CurrentUser) -> EmailRead:
    """Send this week's digest to its recipients now (kept in the e-mail log)."""
    return EmailRead.model_validate(digest.send_digest(session, settings=runtime.settings, project_id=project_id,
                                                       user=user))


@project_router.get("/deliverables", response_model=list[DeliverableRead])
def list_deliverables(project: ProjectAccess, session: DbSession) -> list[DeliverableRead]:
    return deliverables.list_deliverables(session, project_id=project.id)


@project_router.post("/deliverables", response_model=DeliverableRead, status_code=201,
                     dependencies=[access.Project.write])
def add_deliverable(project_id: int, body: DeliverableCreate, session: DbSession,
                    user: CurrentUser) -> DeliverableRead:
    return deliverables.add_deliverable(session, project_id=project_id, user=user, body=body)


@project_router.get("/deliverables/{deliverable_id}", response_model=DeliverableRead)
def get_deliverable(project: ProjectAccess, deliverable_id: ItemId, session: DbSession) -> DeliverableRead:
    return deliverables.to_read(session, deliverables.get_deliverable(session, project_id=project.id,
                                                                      deliverable_id=deliverable_id))


@project_router.post("/deliverables/{deliverable_id}/decision", response_model=DeliverableRead)
def decide_deliverable(project: ProjectAccess, deliverable_id: ItemId, body: DeliverableDecide, session: DbSession,
                       user: CurrentUser) -> DeliverableRead:
    """The client (a user of role client, member of the project) approves or rejects; audited."""
    return deliverables.decide(session, project_id=project.id, deliverable_id=deliverable_id, user=user,
                               decision=body.decision, comment=body.comment)


@project_router.post("/deliverables/{deliverable_id}/resubmit", response_model=DeliverableRead,
                     dependencies=[access.Project.write])
def resubmit_deliverable(project_id: int, deliverable_id: ItemId, session: DbSession,
                         user: CurrentUser) -> DeliverableRead:
    return deliverables.resubmit(session, project_id=project_id, deliverable_id=deliverable_id, user=user)


@project_router.delete("/deliverables/{deliverable_id}", status_code=204, dependencies=[access.Project.write])
def delete_deliverable(project_id: int, deliverable_id: ItemId, session: DbSession, user: CurrentUser) -> None:
    deliverables.delete_deliverable(session, project_id=project_id, deliverable_id=deliverable_id, user=user)


@project_router.get("/sign-off-audit", response_model=list[DecisionRead])
def sign_off_audit(project: ProjectAccess, session: DbSession) -> list[DecisionRead]:
    return deliverables.list_decisions(session, project_id=project.id)


router.include_router(project_router)
