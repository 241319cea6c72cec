"""API shapes of notifications."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class SubscriptionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    channel: str = Field("webhook", description="webhook or email")
    target: str = Field(description="Webhook URL or e-mail address")
    events: list[str] = Field(default_factory=lambda: ["*"])
    secret: str = Field("", max_length=200, description="HMAC-SHA256 key of the X-Mlpilot-Signature header")


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    channel: str
    target: str
    events: list[str]
    active: bool
    created_at: dt.datetime


class DeliveryRead(BaseModel):
    id: int
    event: str
    event_id: int
    subscription_id: int | None
    channel: str
    target: str
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
