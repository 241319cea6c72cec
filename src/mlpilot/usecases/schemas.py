"""API shapes of the usecases domain: catalog entries, screening questions and screenings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from mlpilot.core.schemas import InputModel, ReadModel


class UseCaseRead(ReadModel):
    key: str
    name: str
    name_ko: str
    industry: str
    business_function: str
    task_type: str
    typical_data: str
    kpis: list[str]
    summary: str
    summary_ko: str


class QuestionRead(ReadModel):
    key: str
    text: str
    text_ko: str


class ScreeningAnswer(InputModel):
    answer: str = Field(description="yes, partly or no")
    note: str = Field("", max_length=1000)


class ScreeningCreate(InputModel):
    answers: dict[str, ScreeningAnswer | str] = Field(
        description="One entry per question key (GET /api/v1/usecases/screening-questions): "
        "{'answer': 'yes|partly|no', 'note': '...'} or just the answer."
    )

    def plain_answers(self) -> dict[str, Any]:
        return {k: v.model_dump() if isinstance(v, ScreeningAnswer) else v for k, v in self.answers.items()}


class ScreeningRead(ReadModel):
    id: int
    project_id: int
    answers: dict[str, Any]
    score: int
    max_score: int
    decision: str
    user_id: int | None
    created_at: dt.datetime
