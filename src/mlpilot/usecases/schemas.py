"""API shapes of the usecases domain: catalog entries, screening questions, readiness and screenings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from mlpilot.core.schemas import InputModel, ReadModel


class TextRead(ReadModel):
    en: str
    ko: str


class UseCaseRead(ReadModel):
    key: str
    industry: str
    task: str
    difficulty: str
    time_series: bool
    needs_outside_engine: bool = Field(description="True when the task runs through an outside engine (engine 'http').")
    blueprint: str
    title: TextRead
    problem: TextRead
    data_needed: TextRead
    typical_value: TextRead
    kpis: list[TextRead]


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
    usecase_key: str | None = Field(None, max_length=80,
                                    description="The candidate use case screened (default: the project's use case).")
    dataset_version_id: int | None = Field(None, ge=1, le=2**63 - 1,
                                           description="A dataset version of the project to check data readiness on.")
    target: str | None = Field(None, max_length=200, description="The label column (needed with a dataset version).")
    time_column: str | None = Field(None, max_length=200,
                                    description="The date/time column, for time-series use cases (history length).")

    def plain_answers(self) -> dict[str, Any]:
        return {k: v.model_dump() if isinstance(v, ScreeningAnswer) else v for k, v in self.answers.items()}


class ReadinessCheckRead(ReadModel):
    key: str
    status: str = Field(description="pass, warn or fail")
    figure: str
    message: str


class ReadinessRead(ReadModel):
    dataset_version_id: int
    dataset: str
    version: int
    target: str
    task: str
    rows: int
    columns: int
    missing_share: float
    rows_per_class: dict[str, int] | None
    history_days: float | None
    history_periods: int | None
    leakage_columns: list[str]
    checks: list[ReadinessCheckRead]
    score: int
    ready: bool


class ScreeningRead(ReadModel):
    id: int
    project_id: int
    usecase_key: str | None
    answers: dict[str, Any]
    score: int
    max_score: int
    decision: str
    value_score: int
    feasibility_score: int
    readiness: ReadinessRead | None
    user_id: int | None
    created_at: dt.datetime


class MatrixPointRead(ReadModel):
    screening_id: int
    usecase_key: str | None
    label: str
    value_score: int
    feasibility_score: int
    decision: str
    quadrant: str


class BuildOverrideCreate(InputModel):
    reason: str = Field(min_length=3, max_length=1000, description="Why the build may go ahead despite a no-go.")


class BuildGateChangeRead(ReadModel):
    action: str = Field(description="screened (a screening's verdict) or override (an admin let it build)")
    decision: str | None
    reason: str
    user_id: int | None
    at: dt.datetime


class BuildGateRead(ReadModel):
    screening_decision: str | None
    build_override: bool
    blocked: bool = Field(description="True when training may not start (no-go and no override).")
    changes: list[BuildGateChangeRead] = Field(description="The audit trail, newest first.")
