"""API shapes of the serving domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from mlpilot.core.schemas import ReadModel
from mlpilot.serving.models import DeploymentAction, ServiceState


class ServiceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=63, description="Lowercase letters, digits and '-'.")
    model_version_id: int
    reason: str = Field("", max_length=500)


class ServiceStop(BaseModel):
    reason: str = Field("", max_length=500)


class DeploymentRead(ReadModel):
    id: int
    action: DeploymentAction
    model_version_id: int
    previous_model_version_id: int | None
    user_id: int | None
    reason: str
    at: dt.datetime


class ServiceRead(ReadModel):
    id: int
    name: str
    project_id: int
    model_version_id: int
    state: ServiceState
    created_at: dt.datetime
    updated_at: dt.datetime


class ModelVersionRef(BaseModel):
    id: int
    name: str
    version: int | str


class InputRead(BaseModel):
    name: str
    dtype: str
    nullable: bool
    categories: list[str] | None


class Endpoints(BaseModel):
    oip_infer: str
    oip_metadata: str
    oip_ready: str
    json_predict: str


class ServiceDetail(ServiceRead):
    model_version: ModelVersionRef
    loaded: bool
    endpoints: Endpoints
    task: str
    classes: list[str] | None
    inputs: list[InputRead]
    deployments: list[DeploymentRead]


class PredictRequest(BaseModel):
    records: list[dict[str, Any]] = Field(description="One object per row: input column → value.")


class PredictResponse(BaseModel):
    service: str
    model_version: str
    predictions: list[dict[str, Any]]
