"""API shapes of the registry domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel


class RegisterRequest(InputModel):
    name: str | None = Field(None, max_length=200, description="Model name; default '<project slug>-<target>'.")


class ModelVersionRead(ReadModel):
    id: int
    project_id: int
    name: str
    version: int
    run_id: int | None
    dataset_version_id: int | None
    flavor: str
    metrics: dict[str, Any]
    artifact_key: str
    created_by_id: int | None
    created_at: dt.datetime
    stage: str = "staging"
    source: dict[str, Any] = {}
    input_count: int = 0


class StageTransitionRead(ReadModel):
    id: int
    from_stage: str | None
    to_stage: str
    user_id: int | None
    reason: str
    at: dt.datetime


class StageChange(InputModel):
    stage: str = Field(description="staging, production or archived.")
    reason: str = Field("", max_length=500)


class ModelVersionDetail(ModelVersionRead):
    signature: dict[str, Any]
    row_steps: dict[str, Any] | None = Field(None, description="The recipe's row-wise steps applied before the "
                                             "model when serving and scoring ('steps'), and what was left out "
                                             "('skipped').")
    lineage: dict[str, Any] = {}
    transitions: list[StageTransitionRead] = []


class ExportResult(BaseModel):
    model_version: ModelVersionDetail
    parity: dict[str, Any]


class RegistrationPolicyBody(InputModel):
    """Which successful runs register on their own: best (default), every or manual; and their model name."""

    mode: str = Field("best", max_length=20, description="best, every or manual.")
    model_name: str = Field("", max_length=200, description="Empty: '<project>-<target>'. Any script is kept.")


class RegistrationPolicyRead(BaseModel):
    project_id: int
    mode: str
    model_name: str
