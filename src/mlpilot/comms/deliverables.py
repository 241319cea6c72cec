"""Deliverables per milestone, linked to the real objects (dataset and model versions, services, documents), and
their sign-off by the client: only a user of role `client` who is a member of the project approves or rejects,
every decision is an append-only audit row, and a milestone with a rejected deliverable cannot be closed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import Role, User
from mlpilot.comms.models import Deliverable, DeliverableDecision, DeliverableKind, DeliverableStatus
from mlpilot.comms.schemas import DecisionRead, DeliverableCreate, DeliverableRead
from mlpilot.core.db import unit_of_work, utcnow
from mlpilot.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mlpilot.datasets import service as datasets_service
from mlpilot.pmo import service as pmo_service
from mlpilot.projects import service as projects_service
from mlpilot.registry import service as registry_service
from mlpilot.serving import service as serving_service

if TYPE_CHECKING:
    from mlpilot.pmo.models import Milestone

MAX_LISTED = 1000
RESUBMITTED = "resubmitted"


def get_deliverable(session: Session, *, project_id: int, deliverable_id: int) -> Deliverable:
    deliverable = session.get(Deliverable, deliverable_id)
    if deliverable is None or deliverable.project_id != project_id:
        raise NotFound(f"Deliverable {deliverable_id} does not exist in project {project_id}.")
    return deliverable


def evidence_url(deliverable: Deliverable) -> str | None:
    """The page showing the delivered object itself."""
    if deliverable.kind == DeliverableKind.dataset and deliverable.dataset_version_id:
        return f"/dataset-versions/{deliverable.dataset_version_id}"
    if deliverable.kind == DeliverableKind.model and deliverable.model_version_id:
        return f"/model-versions/{deliverable.model_version_id}"
    if deliverable.kind == DeliverableKind.service and deliverable.service_name:
        return f"/services/{deliverable.service_name}"
    if deliverable.link.startswith(("https://", "http://", "/")):
        return deliverable.link
    return None


def to_read(session: Session, deliverable: Deliverable) -> DeliverableRead:
    read = DeliverableRead.model_validate(deliverable)
    read.evidence_url = evidence_url(deliverable)
    read.decisions = [DecisionRead.model_validate(d) for d in session.scalars(
        select(DeliverableDecision).where(DeliverableDecision.deliverable_id == deliverable.id)
        .order_by(DeliverableDecision.id))]
    return read


def list_deliverables(session: Session, *, project_id: int, milestone_id: int | None = None) -> list[DeliverableRead]:
    """The project's deliverables by milestone, each with its decisions (the audit)."""
    stmt = select(Deliverable).where(Deliverable.project_id == project_id)
    if milestone_id is not None:
        stmt = stmt.where(Deliverable.milestone_id == milestone_id)
    rows = session.scalars(stmt.order_by(Deliverable.milestone_id, Deliverable.id).limit(MAX_LISTED))
    return [to_read(session, d) for d in rows]


def _link(session: Session, *, project_id: int, deliverable: Deliverable, body: DeliverableCreate) -> None:
    """Point the deliverable at the real object of its kind and take that object's version."""
    kind = body.kind
    deliverable.dataset_version_id = deliverable.model_version_id = deliverable.service_name = None
    if kind == DeliverableKind.dataset:
        if body.dataset_version_id is None:
            raise InvalidInput("A dataset deliverable needs dataset_version_id: the version handed over.")
        version = datasets_service.get_dataset_version(session, version_id=body.dataset_version_id)
        if version.dataset.project_id != project_id:
            raise NotFound(f"Dataset version {body.dataset_version_id} does not exist in project {project_id}.")
        deliverable.dataset_version_id, deliverable.version = version.id, f"{version.dataset.name} v{version.version}"
    elif kind == DeliverableKind.model:
        if body.model_version_id is None:
            raise InvalidInput("A model deliverable needs model_version_id: the registered version handed over.")
        model = registry_service.get_model_version(session, model_version_id=body.model_version_id)
        if model.project_id != project_id:
            raise NotFound(f"Model version {body.model_version_id} does not exist in project {project_id}.")
        deliverable.model_version_id, deliverable.version = model.id, f"{model.name} v{model.version}"
    elif kind == DeliverableKind.service:
        if not body.service_name:
            raise InvalidInput("A service deliverable needs service_name: the deployed service handed over.")
        svc = serving_service.find_service_by_name(session, name=body.service_name)
        if svc is None or svc.project_id != project_id:
            raise NotFound(f"Service {body.service_name!r} does not exist in project {project_id}.")
        label = body.version.strip()
        if svc.model_version_id is not None:
            model = registry_service.get_model_version(session, model_version_id=svc.model_version_id)
            label = f"{model.name} v{model.version}"
        deliverable.service_name, deliverable.version = svc.name, label
    else:
        deliverable.version = body.version.strip() or "1"
        deliverable.link = body.link.strip()


def add_deliverable(session: Session, *, project_id: int, user: User, body: DeliverableCreate) -> DeliverableRead:
    """List a deliverable under a milestone; it awaits the client's approval."""
    name = body.name.strip()
    if not name:
        raise InvalidInput("Deliverable name is empty; say what is handed over.")
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        pmo_service.get_milestone(session, project_id=project_id, milestone_id=body.milestone_id)
        deliverable = Deliverable(project_id=project_id, milestone_id=body.milestone_id, kind=body.kind, name=name,
                                  description=body.description.strip(), created_by_id=user.id,
                                  status=DeliverableStatus.awaiting)
        _link(session, project_id=project_id, deliverable=deliverable, body=body)
        session.add(deliverable)
        session.flush()
    return to_read(session, deliverable)


def resubmit(session: Session, *, project_id: int, deliverable_id: int, user: User, version: str = "",
             comment: str = "") -> DeliverableRead:
    """Hand a (rejected or changed) deliverable over again: it awaits the client's approval, audited."""
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        deliverable = get_deliverable(session, project_id=project_id, deliverable_id=deliverable_id)
        if version.strip():
            if len(version.strip()) > 80:
                raise InvalidInput("version is longer than 80 characters.")
            deliverable.version = version.strip()
        deliverable.status = DeliverableStatus.awaiting
        session.add(DeliverableDecision(deliverable_id=deliverable.id, project_id=project_id, user_id=user.id,
                                        username=user.username, decision=RESUBMITTED, comment=comment.strip(),
                                        version=deliverable.version, at=utcnow()))
    return to_read(session, deliverable)


def delete_deliverable(session: Session, *, project_id: int, deliverable_id: int, user: User) -> None:
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        deliverable = get_deliverable(session, project_id=project_id, deliverable_id=deliverable_id)
        if deliverable.status == DeliverableStatus.approved:
            raise Conflict(f"Deliverable {deliverable.name!r} was approved by the client; an approved deliverable "
                           "stays on the record.")
        for decision in session.scalars(select(DeliverableDecision)
                                        .where(DeliverableDecision.deliverable_id == deliverable.id)):
            session.delete(decision)
        session.delete(deliverable)


def check_signer(session: Session, *, project_id: int, user: User) -> None:
    """Only the client approves: a user of role `client` who is a member of this project."""
    if user.role != Role.client:
        raise PermissionDenied("Only a user of the client's organisation (role client) approves or rejects "
                               "deliverables.")
    if not projects_service.is_member(session, project_id=project_id, user_id=user.id):
        raise PermissionDenied(f"You are not a member of project {project_id}; you cannot sign off its deliverables.")


def decide(session: Session, *, project_id: int, deliverable_id: int, user: User, decision: str,
           comment: str = "") -> DeliverableRead:
    """The client approves or rejects an awaiting deliverable with a comment; the decision is audited."""
    try:
        status = DeliverableStatus(decision)
    except ValueError:
        raise InvalidInput(f"Decision {decision!r} is unknown; expected approved or rejected.") from None
    if status == DeliverableStatus.awaiting:
        raise InvalidInput("Decision must be approved or rejected.")
    comment = comment.strip()
    if len(comment) > 5000:
        raise InvalidInput("The comment is longer than 5000 characters.")
    if status == DeliverableStatus.rejected and not comment:
        raise InvalidInput("Say why the deliverable is rejected: a rejection needs a comment.")
    with unit_of_work(session):
        projects_service.get_project(session, project_id=project_id)
        check_signer(session, project_id=project_id, user=user)
        deliverable = get_deliverable(session, project_id=project_id, deliverable_id=deliverable_id)
        if deliverable.status != DeliverableStatus.awaiting:
            raise Conflict(f"Deliverable {deliverable.name!r} is already {deliverable.status}; the team must "
                           "resubmit it before it can be decided again.")
        deliverable.status = status
        session.add(DeliverableDecision(deliverable_id=deliverable.id, project_id=project_id, user_id=user.id,
                                        username=user.username, decision=status, comment=comment,
                                        version=deliverable.version, at=utcnow()))
    return to_read(session, deliverable)


def list_decisions(session: Session, *, project_id: int) -> list[DecisionRead]:
    """The project's sign-off audit, newest first."""
    rows = session.scalars(select(DeliverableDecision).where(DeliverableDecision.project_id == project_id)
                           .order_by(DeliverableDecision.id.desc()).limit(MAX_LISTED))
    return [DecisionRead.model_validate(d) for d in rows]


@pmo_service.on_milestone_close
def refuse_close_with_rejected(session: Session, milestone: Milestone) -> None:
    """A milestone cannot be closed while one of its deliverables stands rejected by the client."""
    rejected = session.scalars(select(Deliverable).where(Deliverable.milestone_id == milestone.id,
                                                         Deliverable.status == DeliverableStatus.rejected)).first()
    if rejected is not None:
        raise Conflict(f"Milestone {milestone.name!r} cannot be closed: the client rejected deliverable "
                       f"{rejected.name!r} ({rejected.version}). Rework it and resubmit it for approval first.")
