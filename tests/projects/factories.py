"""Builders for tests that need users and projects, made through the real services."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import Role, User
from mlpilot.projects import service as projects_service
from mlpilot.projects.models import Project
from tests.conftest import ADMIN_PASSWORD


def make_user(session: Session, *, role: Role = Role.member, username: str | None = None) -> User:
    """Create a user with a unique name."""
    return accounts_service.create_user(session, username=username or f"u{uuid.uuid4().hex[:8]}",
                                        password="password-123", role=role)


def make_project(session: Session, *, user: User | None = None, name: str | None = None, client: str = "ACME",
                 usecase_key: str | None = "churn-prediction") -> Project:
    """Create a project owned by `user` (a fresh member when not given)."""
    user = user or make_user(session)
    return projects_service.create_project(session, name=name or f"Project {uuid.uuid4().hex[:6]}", user=user,
                                           client=client, description="A test project.", usecase_key=usecase_key)


def login(client: TestClient, *, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Log the test client in through the UI form so pages see a session cookie."""
    response = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 303, response.text


def api_project(client: TestClient, *, name: str = "Churn pilot", usecase_key: str | None = "churn-prediction") -> dict:
    """Create a project over the API as the admin and return its JSON."""
    response = client.post("/api/v1/projects", json={"name": name, "client": "ACME Telecom",
                                                     "description": "Keep customers.", "usecase_key": usecase_key})
    assert response.status_code == 201, response.text
    return response.json()
