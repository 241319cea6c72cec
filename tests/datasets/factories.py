"""Builders for dataset tests (also used by training and registry tests): sample data, projects, uploads."""

from __future__ import annotations

import gzip
import io
import time
from functools import lru_cache
from importlib.resources import files
from typing import Any

import numpy as np
import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mlpilot.core import jobs
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service


@lru_cache(maxsize=1)
def churn_frame() -> pl.DataFrame:
    """The demo churn data (5,000 rows)."""
    raw = files("mlpilot.demo").joinpath("churn.tsv.gz").read_bytes()
    return pl.read_csv(io.BytesIO(gzip.decompress(raw)), separator="\t")


def churn_sample_tsv(rows: int = 600, seed: int = 7) -> bytes:
    """A reproducible sample of the churn data as TSV bytes."""
    buffer = io.BytesIO()
    churn_frame().sample(n=rows, seed=seed).write_csv(buffer, separator="\t")
    return buffer.getvalue()


def synthetic_frame(task: str, rows: int = 240, seed: int = 3) -> pl.DataFrame:
    """A small learnable table for `task`: two numeric features, one categorical, target 'y'."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    signal = 2 * x1 - x2 + np.where(colour == "red", 1.5, 0.0)
    if task == "regression":
        y: Any = signal + rng.normal(scale=0.1, size=rows)
    elif task == "binary":
        y = np.where(signal > 0, "yes", "no")
    else:
        y = np.select([signal < -1, signal < 1], ["low", "mid"], "high")
    return pl.DataFrame({"x1": x1, "x2": x2, "colour": colour, "y": y})


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as comma-separated bytes."""
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def create_project(client: TestClient, name: str = "Churn pilot") -> int:
    """Create a project over the API and return its id."""
    response = client.post("/api/v1/projects", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def upload(client: TestClient, project_id: int, *, name: str, filename: str, data: bytes) -> Any:
    """POST a dataset upload and return the response."""
    return client.post(f"/api/v1/projects/{project_id}/datasets", data={"name": name},
                       files={"file": (filename, data, "application/octet-stream")})


def wait_job(client: TestClient, job_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """Poll a job until it finishes (or fail the test at the deadline) and return it."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']} after {timeout} s"
        time.sleep(0.1)


def upload_ok(client: TestClient, project_id: int, *, name: str, filename: str, data: bytes) -> dict[str, Any]:
    """Upload, wait for the profile, and return the upload result."""
    response = upload(client, project_id, name=name, filename=filename, data=data)
    assert response.status_code == 201, response.text
    body = response.json()
    job = wait_job(client, body["profile_job_id"])
    assert job["state"] == "succeeded", job["error"]
    return body


def make_version(session: Session, runtime: Runtime, *, project_id: int, user_id: int, frame: pl.DataFrame,
                 name: str = "data") -> int:
    """Upload `frame` as CSV through the service, wait for its profile, and return the version id."""
    version, job_id = datasets_service.create_dataset_version(
        session, runtime=runtime, project_id=project_id, name=name, filename=f"{name}.csv", data=csv_bytes(frame),
        user_id=user_id)
    job = jobs.wait_for_job(runtime, job_id, timeout=60)
    assert job.state == "succeeded", job.error
    return version.id
