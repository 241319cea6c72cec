"""API shapes of notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlpilot.core.schemas import InputModel


class SubscriptionCreate(InputModel):
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
    has_secret: bool = False

    @model_validator(mode="before")
    @classmethod
    def _mark_secret(cls, value: Any) -> Any:
        # The secret itself never leaves the server; clients only learn whether calls are signed.
        if hasattr(value, "secret"):
            return {**{k: getattr(value, k) for k in ("id", "name", "channel", "target", "events", "active",
                                                      "created_at")}, "has_secret": bool(value.secret)}
        return value


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
