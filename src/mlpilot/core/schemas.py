"""The one base of every API read schema: built from ORM rows or plain objects by attribute."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
