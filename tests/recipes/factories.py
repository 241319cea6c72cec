"""Builders for recipe tests: a small dirty table with Korean text and personal data, uploads and recipes."""

from __future__ import annotations

from typing import Any

import polars as pl
from fastapi.testclient import TestClient

from tests.datasets.factories import csv_bytes, upload_ok


def dirty_frame() -> pl.DataFrame:
    """Eight customer rows with a bad age, a duplicate, padded text and phone numbers / RRNs in free text."""
    return pl.DataFrame({
        "id": [1, 2, 3, 4, 5, 6, 7, 7],
        "age": ["31", "42", "n/a", "55", "27", "38", "61", "61"],
        "name": [" 김 민수 ", "이영희", "박철수", "최지우", "정하늘", "강 다은", "조민호", "조민호"],
        "spend": [10.5, 12.0, None, 11.25, 9.0, 13.5, 480.0, 480.0],
        "memo": ["연락처 010-1234-5678", "없음", "hong@example.com", "주민 900101-1234567", "없음", "없음",
                 "02-123-4567", "02-123-4567"],
    })


def upload_frame(client: TestClient, project_id: int, frame: pl.DataFrame, name: str = "customers") -> int:
    """Upload `frame` as CSV, wait for its profile and return the dataset version id."""
    return upload_ok(client, project_id, name=name, filename=f"{name}.csv", data=csv_bytes(frame))["version"]["id"]


def create_recipe(client: TestClient, project_id: int, steps: list[dict[str, Any]], name: str = "clean") -> dict:
    """Create a recipe over the API and return its detail."""
    response = client.post(f"/api/v1/projects/{project_id}/recipes", json={"name": name, "steps": steps})
    assert response.status_code == 201, response.text
    return response.json()


CLEAN_STEPS: list[dict[str, Any]] = [
    {"op": "cast", "column": "age", "to": "int", "on_error": "null"},
    {"op": "normalize_text", "columns": ["name"]},
    {"op": "duplicates", "action": "drop"},
    {"op": "impute", "columns": ["spend"], "strategy": "median"},
    {"op": "mask_pii", "columns": ["memo"]},
    {"op": "derive", "column": "big_spender", "expr": "spend > 100"},
]
