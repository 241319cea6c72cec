"""Changing a risk's fields with one history row per changed field (who or which detector, when, old → new)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from mlpilot.core.db import utcnow
from mlpilot.risks.models import MANUAL, Risk, RiskChange, RiskStatus

TRACKED = ("title", "description", "probability", "impact", "owner_id", "mitigation", "status", "due_date",
           "evidence_url")
VALUE_LIMIT = 1000


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:VALUE_LIMIT]


def record(session: Session, risk: Risk, field: str, old: object, new: object, *, user_id: int | None,
           source: str = MANUAL) -> None:
    """Add one history row to `risk` (flushed with the caller's unit of work)."""
    session.add(RiskChange(risk_id=risk.id, user_id=user_id, source=source, field=field, old_value=_text(old),
                           new_value=_text(new), at=utcnow()))


def apply(session: Session, risk: Risk, values: dict[str, object], *, user_id: int | None,
          source: str = MANUAL) -> list[str]:
    """Set `values` on the risk, recording each field that really changes; return the changed fields.

    Closing stamps closed_at and the reason (a person's close is final; a detector's may reopen); the score
    follows probability and impact.
    """
    changed = []
    for field, new in values.items():
        old = getattr(risk, field)
        if field in TRACKED and _text(old) != _text(new):
            setattr(risk, field, new)
            record(session, risk, field, old, new, user_id=user_id, source=source)
            changed.append(field)
    if "status" in changed:
        closing = risk.status == RiskStatus.closed
        risk.closed_at = utcnow() if closing else None
        risk.closed_reason = ("manual" if source == MANUAL else "evidence_cleared") if closing else ""
    if changed:
        risk.score = risk.probability * risk.impact
        risk.updated_at = utcnow()
    return changed
