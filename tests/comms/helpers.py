"""Users of a given role with their own API token, made through the real API as the admin."""

from __future__ import annotations

from fastapi.testclient import TestClient


def user_headers(client: TestClient, username: str, role: str, *project_ids: int) -> dict[str, str]:
    """Create `username` with `role`, add them to the projects, and return their bearer-token header."""
    made = client.post("/api/v1/users", json={"username": username, "password": "password-123", "role": role})
    assert made.status_code == 201, made.text
    for project_id in project_ids:
        added = client.post(f"/api/v1/projects/{project_id}/members", json={"username": username})
        assert added.status_code == 201, added.text
    login = client.post("/login", data={"username": username, "password": "password-123"}, follow_redirects=False)
    cookie = login.cookies.get("mlpilot_session")
    client.cookies.clear()
    token = client.post("/api/v1/tokens", json={"name": "t"}, headers={"Authorization": f"Bearer {cookie}"})
    return {"Authorization": f"Bearer {token.json()['token']}"}
