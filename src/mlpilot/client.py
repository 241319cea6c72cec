"""A small typed client of the REST API and the data plane, used by the CLI and the demo."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


class ApiError(Exception):
    """A 4xx/5xx answer, carrying the server's problem detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class MlpilotClient:
    """Talks to one mlpilot server with one API token."""

    def __init__(self, base_url: str, token: str | None, *, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MlpilotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return the decoded JSON (raises ApiError on an error answer)."""
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        if not response.content:
            return None
        if response.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
            return response.json()
        return response.content

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def get_object(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """GET a resource that is one JSON object."""
        return json_object(self.get(path, **kwargs), path)

    def post_object(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """POST to a route that answers one JSON object."""
        return json_object(self.post(path, **kwargs), path)

    # -- jobs ---------------------------------------------------------------------------------------
    def wait_for_job(self, job_id: int, *, timeout: float = 900.0,
                     on_progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Poll a job until it finishes; return its final record."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_object(f"/api/v1/jobs/{job_id}")
            if on_progress is not None:
                on_progress(job)
            if job["state"] in ("succeeded", "failed"):
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job['state']} after {timeout:.0f} s")
            time.sleep(0.5)

    # -- domain shortcuts ---------------------------------------------------------------------------
    def find_project(self, name_or_id: str) -> dict[str, Any]:
        """Return the project with this id or name."""
        if str(name_or_id).isdigit():
            return self.get_object(f"/api/v1/projects/{name_or_id}")
        for project in self.get("/api/v1/projects"):
            if project["name"] == name_or_id:
                return json_object(project, "/api/v1/projects")
        raise ApiError(404, f"No project named {name_or_id!r}.")

    def upload_dataset(self, project_id: int, path: Path, *, name: str | None = None) -> dict[str, Any]:
        """Upload a CSV/TSV/Parquet file as a new dataset version."""
        with Path(path).open("rb") as handle:
            return self.post_object(f"/api/v1/projects/{project_id}/datasets",
                             data={"name": name or Path(path).name.split(".")[0]},
                             files={"file": (Path(path).name, handle)})

    def infer(self, service: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """Call the Open Inference Protocol V2 endpoint of a service."""
        return self.post_object(f"/v2/models/{service}/infer", json={"inputs": inputs})


def json_object(value: object, path: str) -> dict[str, Any]:
    """`value` when the server answered a JSON object, else an ApiError naming the route."""
    if not isinstance(value, dict):
        raise ApiError(502, f"{path} answered {type(value).__name__}, not a JSON object.")
    return value


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or body)
    return str(body)
