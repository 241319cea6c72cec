"""Authentication and roles over the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/api/v1/health", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_no_token_is_401_with_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/projects", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Bearer" in response.json()["detail"]


def test_wrong_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_bootstrap_token_is_admin(client: TestClient) -> None:
    me = client.get("/api/v1/me").json()
    assert me["username"] == "admin" and me["role"] == "admin"


def test_viewer_cannot_create_projects_but_member_can(client: TestClient) -> None:
    for username, role in (("vera", "viewer"), ("mike", "member")):
        created = client.post("/api/v1/users", json={"username": username, "password": "password-123", "role": role})
        assert created.status_code == 201, created.text
    tokens = {}
    for username in ("vera", "mike"):
        login = client.post("/login", data={"username": username, "password": "password-123"}, follow_redirects=False)
        assert login.status_code == 303
        session_cookie = login.cookies.get("mlpilot_session")
        made = client.post("/api/v1/tokens", json={"name": "cli"},
                           headers={"Authorization": f"Bearer {session_cookie}"})
        assert made.status_code == 201
        tokens[username] = made.json()["token"]
    denied = client.post("/api/v1/projects", json={"name": "P"}, headers={"Authorization": f"Bearer {tokens['vera']}"})
    assert denied.status_code == 403
    assert "member" in denied.json()["detail"]
    allowed = client.post("/api/v1/projects", json={"name": "P"}, headers={"Authorization": f"Bearer {tokens['mike']}"})
    assert allowed.status_code == 201
    # A member sees only their own projects; an admin-only route stays closed.
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {tokens['mike']}"}).status_code == 403


def test_revoked_token_stops_working(client: TestClient) -> None:
    made = client.post("/api/v1/tokens", json={"name": "temp"}).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/tokens/{made['id']}").status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_ui_login_wrong_password_and_success(client: TestClient) -> None:
    client.headers.pop("Authorization")
    bad = client.post("/login", data={"username": "admin", "password": "wrong"}, follow_redirects=False)
    assert bad.status_code == 401
    assert "Wrong username or password" in bad.text
    ok = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD}, follow_redirects=False)
    assert ok.status_code == 303 and ok.cookies.get("mlpilot_session")


def test_pages_redirect_to_login(client: TestClient) -> None:
    client.headers.pop("Authorization")
    response = client.get("/projects", follow_redirects=False, headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/projects")
