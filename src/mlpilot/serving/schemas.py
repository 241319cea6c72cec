"""API shapes of the serving domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel
from mlpilot.dataplane.routing import LiveBackend, ShadowComparison
from mlpilot.serving.models import DeploymentAction, ServiceState, TrafficPolicy


class ServiceCreate(InputModel):
    name: str = Field(min_length=1, max_length=100, description=(
        "The service's name. Lowercase letters, digits and '-' are used as is in the endpoint URLs; any other name "
        "(Korean, spaces) is kept for display and gets a stable ASCII name for the URLs."))
    model_version_id: int
    reason: str = Field("", max_length=500)


class ServiceStop(InputModel):
    reason: str = Field("", max_length=500)


class DeploymentRead(ReadModel):
    """One audited change: who (user), why (reason), when (at), routing before and after."""

    id: int
    action: DeploymentAction
    model_version_id: int | None
    previous_model_version_id: int | None
    user_id: int | None
    user: str | None = None
    reason: str
    at: dt.datetime
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}


class ExternalBackendConfig(InputModel):
    """An AI engine over HTTP and how to talk to it in the service contract's terms."""

    name: str = Field(min_length=1, max_length=100, description="Backend name, e.g. 'vendor-scoring-api'.")
    url: str = Field(min_length=1, max_length=2000, description="http(s) URL the rows are POSTed to.")
    timeout_s: float = Field(5.0, gt=0, le=120, description="Seconds before the backend counts as down (503).")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers (e.g. an API key).")
    request: Any = Field({"records": "$records"}, description="JSON request template; '$records', '$instances', "
                         "'$columns' or '$inputs' (OIP V2 tensors) is replaced by the rows.")
    response_path: str = Field("predictions", description="Dotted path to the list of row answers, e.g. "
                               "'outputs.0.data'.")
    response_field: str | None = Field(None, description="Field of each row answer to read, e.g. 'score'.")


class BackendCreate(InputModel):
    model_version_id: int | None = Field(None, description="A model version of the service's project.")
    external: ExternalBackendConfig | None = None
    reason: str = Field("", max_length=500)


class BackendRead(ReadModel):
    id: int
    kind: str
    label: str
    model_version_id: int | None
    config: dict[str, Any]
    role: str = "idle"
    created_at: dt.datetime


class TrafficUpdate(InputModel):
    policy: TrafficPolicy
    backend_id: int | None = Field(None, description="Candidate backend (canary and shadow).")
    weight: float | None = Field(None, description="Canary: the candidate's share of requests, 0 < w < 1.")
    reason: str = Field("", max_length=500)


class PromoteRequest(InputModel):
    backend_id: int | None = Field(None, description="Backend to promote; default the current candidate.")
    reason: str = Field("", max_length=500)


class ReasonRequest(InputModel):
    reason: str = Field("", max_length=500)


class LiveRouting(BaseModel):
    backends: list[LiveBackend]
    shadow: ShadowComparison | None


class ServiceRead(ReadModel):
    id: int
    name: str = Field(description="ASCII name used in the endpoint URLs.")
    display_name: str = Field("", description="The name as the user gave it, when it differs from `name`.")
    project_id: int
    model_version_id: int | None
    state: ServiceState
    policy: TrafficPolicy = TrafficPolicy.single
    canary_weight: float = 0.0
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
    model_version: ModelVersionRef | None
    primary: str
    backends: list[BackendRead] = []
    live: LiveRouting | None = None
    loaded: bool
    endpoints: Endpoints
    task: str
    classes: list[str] | None
    inputs: list[InputRead]
    deployments: list[DeploymentRead]


class PredictRequest(InputModel):
    records: list[dict[str, Any]] = Field(description="One object per row: input column → value.")


class PredictResponse(BaseModel):
    service: str
    model_version: str
    # The request's own "request_id", or a generated one: name it when sending ground truth back.
    request_id: str | None = None
    predictions: list[dict[str, Any]]
