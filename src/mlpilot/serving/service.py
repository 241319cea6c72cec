"""Use cases of the serving domain (placeholder until the serving work lands)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def load_deployed_services(session: Session, *, runtime: Any) -> int:
    """Load every deployed service into the runtime's data plane; return how many."""
    return 0
