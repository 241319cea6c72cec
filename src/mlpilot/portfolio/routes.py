"""REST route of the portfolio: GET /api/v1/portfolio (the projects the caller may see, with their health)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mlpilot.accounts.deps import CurrentUser
from mlpilot.core.deps import DbSession
from mlpilot.portfolio import service
from mlpilot.portfolio.schemas import PortfolioRead
from mlpilot.web import access

router = APIRouter(tags=["portfolio"])
Filter = Annotated[str | None, Query(max_length=200)]


@router.get("/portfolio", response_model=PortfolioRead, dependencies=[access.SignedIn])
def get_portfolio(session: DbSession, user: CurrentUser, health: Filter = None, owner: Filter = None,
                  stage: Filter = None, client: Filter = None,
                  sort: Annotated[str, Query(max_length=20, description=", ".join(service.SORTS))] = "health",
                  desc: bool = False) -> PortfolioRead:
    """Every project the caller is a member of (admins: all), with schedule, risk, model and service health."""
    return service.portfolio(session, user=user, health=health or None, owner=owner or None, stage=stage or None,
                             client=client or None, sort=sort, descending=desc)
