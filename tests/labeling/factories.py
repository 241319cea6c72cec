"""Builders for labeling tests: a project with a text dataset, users with their own API tokens, a labeling project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from fastapi.testclient import TestClient

from tests.datasets.factories import csv_bytes, upload_ok

REVIEWS = [
    "배송이 빨라서 좋아요", "The battery died after a day", "Great value, would buy again", "포장이 엉망이었어요",
    "Works as described", "환불 절차가 너무 복잡해요", "Customer service was kind", "색상이 사진과 달라요",
]


@dataclass
class Setup:
    project_id: int
    version_id: int
    headers: dict[str, dict[str, str]]  # username -> Authorization header


def text_frame(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"review": [f"{REVIEWS[i % len(REVIEWS)]} #{i}" for i in range(rows)],
                         "stars": [i % 5 + 1 for i in range(rows)],
                         "width": [640] * rows, "height": [480] * rows})


def add_user(client: TestClient, name: str, *, role: str = "member", project_id: int | None = None) -> dict[str, str]:
    """Create a user (added to the project when given) and return the header of their own token."""
    created = client.post("/api/v1/users", json={"username": name, "password": "password-123", "role": role})
    assert created.status_code == 201, created.text
    if project_id is not None:
        added = client.post(f"/api/v1/projects/{project_id}/members", json={"username": name})
        assert added.status_code in (200, 201), added.text
    signed = TestClient(client.app)
    assert signed.post("/login", data={"username": name, "password": "password-123"},
                       follow_redirects=False).status_code == 303
    token = signed.post("/api/v1/tokens", json={"name": "t"}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def setup(client: TestClient, *, rows: int = 40, annotators: tuple[str, ...] = ("ann", "bo", "chae"),
          reviewers: tuple[str, ...] = ("rev",)) -> Setup:
    project = client.post("/api/v1/projects", json={"name": "Labels"}).json()["id"]
    version = upload_ok(client, project, name="reviews", filename="reviews.csv", data=csv_bytes(text_frame(rows)))
    headers = {name: add_user(client, name, project_id=project) for name in (*annotators, *reviewers)}
    return Setup(project, version["version"]["id"], headers)


def create_labeling(client: TestClient, s: Setup, *, roles: dict[str, str] | None = None,
                    **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "sentiment", "dataset_version_id": s.version_id, "kind": "classification",
                            "labels": ["positive", "negative", "neutral"], "text_column": "review",
                            "fields": ["stars"], "guidelines": "Label the tone of the review."}
    body.update(overrides)
    response = client.post(f"/api/v1/projects/{s.project_id}/labeling", json=body)
    assert response.status_code == 201, response.text
    labeling = response.json()
    for name, role in (roles or {}).items():
        added = client.post(f"/api/v1/labeling/{labeling['id']}/members", json={"username": name, "role": role})
        assert added.status_code == 201, added.text
    return labeling


def next_item(client: TestClient, labeling_id: int, headers: dict[str, str]) -> dict[str, Any] | None:
    response = client.post(f"/api/v1/labeling/{labeling_id}/next", headers=headers)
    assert response.status_code in (200, 204), response.text
    return response.json() if response.status_code == 200 else None


def submit(client: TestClient, assignment_id: int, headers: dict[str, str], value: dict[str, Any],
           seconds: float | None = 2.5) -> Any:
    return client.post(f"/api/v1/labeling-assignments/{assignment_id}/submit", headers=headers,
                       json={"value": value, "seconds_spent": seconds})
