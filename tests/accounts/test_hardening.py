"""Sign-in throttling, constant-work failures, same-origin checks, security headers, password changes and the
bootstrap token's life, over the real app."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from mlpilot.accounts import service
from mlpilot.accounts.models import LoginFailure
from mlpilot.app import create_app
from mlpilot.core import security
from mlpilot.core.db import utcnow
from mlpilot.core.errors import InvalidInput
from tests.conftest import ADMIN_PASSWORD, ADMIN_TOKEN, DatabaseFactory, make_settings


def sign_in(client: TestClient, username: str, password: str) -> int:
    return client.post("/login", data={"username": username, "password": password},
                       headers={"Authorization": ""}, follow_redirects=False).status_code


def test_failed_sign_ins_are_throttled_per_user_and_recover(tmp_path: Path, databases: DatabaseFactory) -> None:
    settings = make_settings(tmp_path, databases.new_url("sqlite"), ui={"login_max_failures": 3})
    with TestClient(create_app(settings)) as client:
        assert [sign_in(client, "admin", "wrong") for _ in range(3)] == [401, 401, 401]
        # The right password no longer helps once the limit is reached: guessing stops here.
        assert sign_in(client, "admin", ADMIN_PASSWORD) == 429
        page = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD},
                           headers={"Authorization": ""})
        assert "Too many failed sign-ins" in page.text
        # Unknown names are counted too (per address), so enumerating them is throttled as well.
        assert sign_in(client, "nobody", "x") == 429
        runtime = client.app.state.runtime
        with runtime.sessions() as session:  # the window passes
            session.execute(update(LoginFailure).values(failed_at=utcnow() - dt.timedelta(minutes=30)))
            session.commit()
        assert sign_in(client, "admin", ADMIN_PASSWORD) == 303


def test_unknown_users_cost_a_hash_check_too(monkeypatch: pytest.MonkeyPatch, client: TestClient) -> None:
    checked: list[str] = []
    original = security.verify_password

    def counting(stored: str, password: str) -> bool:
        checked.append(stored)
        return original(stored, password)

    monkeypatch.setattr(security, "verify_password", counting)
    assert sign_in(client, "no-such-user", "whatever") == 401
    assert checked == [security.dummy_password_hash()]


def test_cross_site_form_posts_are_refused_and_same_site_ones_work(client: TestClient) -> None:
    assert sign_in(client, "admin", ADMIN_PASSWORD) == 303
    assert "mlpilot_session" in client.cookies
    form = {"name": "csrf-check"}
    forged = client.post("/projects", data=form, headers={"Authorization": "", "Origin": "https://evil.example"},
                         follow_redirects=False)
    assert forged.status_code == 403 and "another site" in forged.json()["detail"]
    referer = client.post("/projects", data=form, headers={"Authorization": "", "Referer": "http://evil.example/x"},
                          follow_redirects=False)
    assert referer.status_code == 403
    same = client.post("/projects", data=form, headers={"Authorization": "", "Origin": "http://testserver"},
                       follow_redirects=False)
    assert same.status_code == 303, same.text
    # A bearer-token call carries no ambient credential, so its Origin does not matter.
    api = client.post("/api/v1/projects", json={"name": "api-made"}, headers={"Origin": "https://evil.example"})
    assert api.status_code == 201


def test_pages_carry_security_headers(client: TestClient) -> None:
    page = client.get("/login", headers={"Authorization": ""})
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert "unsafe-inline" in client.get("/docs").headers["content-security-policy"].split("script-src")[1]
    for template in Path(__file__).resolve().parents[2].joinpath("src/mlpilot/web/templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert " onchange=" not in text and " onclick=" not in text and "<script>" not in text, template


def test_secure_cookie_follows_the_public_url(tmp_path: Path, databases: DatabaseFactory) -> None:
    settings = make_settings(tmp_path, databases.new_url("sqlite"), public_url="https://ml.example.com")
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        answer = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD},
                             headers={"Authorization": ""}, follow_redirects=False)
        cookie = answer.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_changing_ones_password_needs_the_current_one_and_signs_out_other_sessions(client: TestClient) -> None:
    client.post("/api/v1/users", json={"username": "pat", "password": "first-password", "role": "member"})
    other = TestClient(client.app)
    assert sign_in(other, "pat", "first-password") == 303
    assert sign_in(client, "pat", "first-password") == 303
    pat_id = next(u["id"] for u in client.get("/api/v1/users", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
                  .json() if u["username"] == "pat")
    no_current = client.patch(f"/api/v1/users/{pat_id}", json={"password": "second-password"},
                              headers={"Authorization": ""})
    assert no_current.status_code == 422 and "current_password" in no_current.json()["detail"]
    wrong = client.patch(f"/api/v1/users/{pat_id}", json={"password": "second-password",
                                                           "current_password": "nope"}, headers={"Authorization": ""})
    assert wrong.status_code == 403
    changed = client.patch(f"/api/v1/users/{pat_id}", json={"password": "second-password",
                                                             "current_password": "first-password"},
                           headers={"Authorization": ""})
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/me", headers={"Authorization": ""}).status_code == 200  # this session stays
    assert other.get("/api/v1/me", headers={"Authorization": ""}).status_code == 401  # the other one is out
    assert sign_in(TestClient(client.app), "pat", "second-password") == 303


def test_bootstrap_token_must_be_strong_and_is_revoked_when_unset(tmp_path: Path,
                                                                    databases: DatabaseFactory) -> None:
    with pytest.raises(InvalidInput, match="at least 32 characters"):
        service.check_bootstrap_token("short-token")
    with pytest.raises(InvalidInput, match="8 different"):
        service.check_bootstrap_token("a" * 40)
    url = databases.new_url("sqlite")
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with TestClient(create_app(make_settings(tmp_path, url))) as client:
        assert client.get("/api/v1/me", headers=bearer).status_code == 200
    with TestClient(create_app(make_settings(tmp_path, url, bootstrap_token=None))) as client:
        assert client.get("/api/v1/me", headers=bearer).status_code == 401, "an unset bootstrap token must stop"
    with pytest.raises(InvalidInput):
        with TestClient(create_app(make_settings(tmp_path, url, bootstrap_token="weak"))):
            pass


def test_the_initial_password_file_goes_after_the_first_admin_sign_in(tmp_path: Path,
                                                                      databases: DatabaseFactory) -> None:
    settings = make_settings(tmp_path, databases.new_url("sqlite"), admin_password=None)
    with TestClient(create_app(settings)) as client:
        password_file = settings.data_dir / "initial-admin-password.txt"
        password = password_file.read_text().strip()
        assert sign_in(client, "admin", "wrong") == 401 and password_file.exists()
        assert sign_in(client, "admin", password) == 303
        assert not password_file.exists()
