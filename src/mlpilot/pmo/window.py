"""The project's planned period (plan window): task dates outside it are refused."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from mlpilot.core.errors import InvalidInput
from mlpilot.pmo.models import PlanWindow


def get_window(session: Session, *, project_id: int) -> PlanWindow | None:
    return session.get(PlanWindow, project_id)


def check_in_window(window: PlanWindow | None, title: str, start: dt.date, due: dt.date) -> None:
    """Refuse task dates outside the project's planned period."""
    if window is None:
        return
    if start < window.start_date:
        raise InvalidInput(f"Task {title!r}: start_date {start.isoformat()} is before the project starts "
                           f"({window.start_date.isoformat()}).")
    if window.end_date is not None and due > window.end_date:
        raise InvalidInput(f"Task {title!r}: due_date {due.isoformat()} is after the project ends "
                           f"({window.end_date.isoformat()}).")
