"""Builders for serving tests: model versions backed by real model folders, deployments over the API."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.runtime import Runtime
from mlpilot.registry.flavors import read_manifest
from mlpilot.registry.models import ModelVersion


def make_model_version(runtime: Runtime, *, project_id: int, model_dir: Path, name: str = "churn") -> int:
    """Publish `model_dir` to the store and record it as the next version of `name`; return its id.

    The registry only registers training runs so far; this stands in for a model import and writes the
    same record register_run would (store first, metadata last).
    """
    key = f"models/test/{uuid.uuid4().hex}"
    runtime.store.put_dir(key, model_dir)
    manifest = read_manifest(model_dir)
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        latest = max((v.version for v in session.query(ModelVersion)
                      .filter_by(project_id=project_id, name=name)), default=0)
        model_version = ModelVersion(project_id=project_id, name=name, version=latest + 1, flavor=manifest["flavor"],
                                     signature=manifest["signature"], metrics={}, artifact_key=key)
        session.add(model_version)
        session.flush()
        return model_version.id


def deploy(client: TestClient, *, project_id: int, name: str, model_version_id: int, reason: str = "",
           headers: dict[str, str] | None = None) -> dict:
    """Deploy over the API and return the JSON response (asserting success)."""
    response = client.post(f"/api/v1/projects/{project_id}/services",
                           json={"name": name, "model_version_id": model_version_id, "reason": reason},
                           headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()


def churn_inputs(rows: int = 2) -> list[dict]:
    """Per-column OIP tensors for the churn model of tests.dataplane.factories."""
    tenure = [float(3 + 10 * i) for i in range(rows)]
    return [
        {"name": "tenure", "shape": [rows], "datatype": "FP64", "data": tenure},
        {"name": "charges", "shape": [rows], "datatype": "FP64", "data": [70.0] * rows},
        {"name": "plan", "shape": [rows], "datatype": "BYTES", "data": ["basic"] * rows},
        {"name": "paperless", "shape": [rows], "datatype": "BOOL", "data": [True] * rows},
    ]
