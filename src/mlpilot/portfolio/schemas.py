"""API shapes of the portfolio: one row per project with four health signals and the overall health."""

from __future__ import annotations

import datetime as dt
import enum

from pydantic import BaseModel


class Health(enum.StrEnum):
    red = "red"
    amber = "amber"
    green = "green"
    none = "none"  # nothing to judge yet (no plan, no target, no service)


# Worst first: the overall health is the worst of the signals.
SEVERITY = {Health.red: 0, Health.amber: 1, Health.green: 2, Health.none: 3}


class Signal(BaseModel):
    status: Health
    reason: str
    reason_ko: str


class PortfolioRow(BaseModel):
    project_id: int
    name: str
    client: str
    stage: str
    owner: str | None
    health: Health
    schedule: Signal
    risk: Signal
    model: Signal
    services: Signal
    due_date: dt.date | None = None
    p85: dt.date | None = None
    open_risks: int = 0
    forecast_as_of: dt.date | None = None


class PortfolioRead(BaseModel):
    as_of: dt.date
    total: int
    counts: dict[str, int]
    projects: list[PortfolioRow]
    pending_forecasts: int  # projects whose forecast is older than their plan (refreshed on later views)
