"""The bases of API schemas: reads built from ORM rows by attribute, inputs with every string bounded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Long free text (descriptions, notes) fits; what does not is refused with the field named, never stored.
MAX_TEXT = 20_000


class InputModel(BaseModel):
    """Base of every request body: no string field may exceed MAX_TEXT characters (fields set tighter limits)."""

    model_config = ConfigDict(str_max_length=MAX_TEXT)
