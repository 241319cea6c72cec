"""The account page (password, API tokens) and the administrators' user page, through the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.projects.factories import login


def _bearer(client: TestClient, secret: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code


def test_a_token_created_on_the_page_is_shown_once_works_and_can_be_revoked(client: TestClient) -> None:
    login(client)
    page = client.get("/account")
    assert page.status_code == 200 and "Create a token" in page.text and "ci-nightly" not in page.text

    created = client.post("/account/tokens", data={"name": "ci-nightly", "expires_in_days": "30"},
                          follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/account#tokens"
    shown = client.get("/account")
    secret = shown.text.split('<code class="secret">')[1].split("</code>")[0]
    assert "ci-nightly" in shown.text and len(secret) >= 32
    assert _bearer(client, secret) == 200
    assert '<code class="secret">' not in client.get("/account").text  # a refresh never shows it again

    token_id = next(t["id"] for t in client.get("/api/v1/tokens").json() if t["name"] == "ci-nightly")
    revoked = client.post(f"/account/tokens/{token_id}/revoke", follow_redirects=False)
    assert revoked.status_code == 303
    assert _bearer(client, secret) == 401
    assert "revoked" in client.get("/account").text
    missing = client.post("/account/tokens/999999/revoke")
    assert missing.status_code == 404 and "999999" in missing.text


def test_token_form_errors_name_the_rule_and_keep_the_input(client: TestClient) -> None:
    login(client)
    unnamed = client.post("/account/tokens", data={"name": "  ", "expires_in_days": ""})
    assert unnamed.status_code == 422 and "1 to 120 characters" in unnamed.text
    too_long = client.post("/account/tokens", data={"name": "ci", "expires_in_days": "99999"})
    assert too_long.status_code == 422 and "from 1 to 3650" in too_long.text and 'value="ci"' in too_long.text
    assert all(t["name"] != "ci" for t in client.get("/api/v1/tokens").json())


def test_password_change_checks_the_current_one_and_the_repeat(client: TestClient) -> None:
    login(client)
    wrong = client.post("/account/password", data={"current_password": "nope", "new_password": "a-new-secret-1",
                                                   "confirm_password": "a-new-secret-1"})
    assert wrong.status_code == 403 and "current password is wrong" in wrong.text
    differ = client.post("/account/password", data={"current_password": ADMIN_PASSWORD,
                                                    "new_password": "a-new-secret-1", "confirm_password": "other-1"})
    assert differ.status_code == 422 and "differ" in differ.text
    short = client.post("/account/password", data={"current_password": ADMIN_PASSWORD, "new_password": "short",
                                                   "confirm_password": "short"})
    assert short.status_code == 422 and "at least 8" in short.text
    changed = client.post("/account/password", data={"current_password": ADMIN_PASSWORD,
                                                     "new_password": "a-new-secret-1",
                                                     "confirm_password": "a-new-secret-1"}, follow_redirects=False)
    assert changed.status_code == 303
    assert "password was changed" in client.get("/account?changed=password").text
    refused = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD}, follow_redirects=False)
    assert refused.status_code == 401
    login(client, password="a-new-secret-1")


def test_the_account_page_speaks_korean(client: TestClient) -> None:
    login(client)
    client.cookies.set("mlpilot_lang", "ko")
    page = client.get("/account")
    assert "내 계정" in page.text and "API 토큰" in page.text and "비밀번호 변경" in page.text
    error = client.post("/account/tokens", data={"name": "", "expires_in_days": ""})
    assert "이름" in error.text and "Give the token a name" not in error.text


def test_admins_add_users_change_roles_and_deactivate_from_the_page(client: TestClient) -> None:
    login(client)
    assert "admin" in client.get("/admin/users").text
    bad = client.post("/admin/users", data={"username": "no spaces please", "role": "member", "password": ""})
    assert bad.status_code == 422 and "2 to 80 letters" in bad.text and 'value="no spaces please"' in bad.text
    bad_role = client.post("/admin/users", data={"username": "ok", "role": "owner", "password": ""})
    assert bad_role.status_code == 422 and "admin, member or viewer" in bad_role.text
    made = client.post("/admin/users", data={"username": "mina", "full_name": "Mina Kim", "role": "viewer",
                                             "password": "mina-pass-1"}, follow_redirects=False)
    assert made.status_code == 303
    duplicate = client.post("/admin/users", data={"username": "mina", "role": "viewer", "password": ""})
    assert duplicate.status_code == 409
    users = {u["username"]: u for u in client.get("/api/v1/users").json()}
    mina = users["mina"]
    assert (mina["role"], mina["full_name"]) == ("viewer", "Mina Kim")

    promoted = client.post(f"/admin/users/{mina['id']}", data={"role": "member", "active": "yes", "password": ""},
                           follow_redirects=False)
    assert promoted.status_code == 303
    assert {u["username"]: u["role"] for u in client.get("/api/v1/users").json()}["mina"] == "member"
    deactivated = client.post(f"/admin/users/{mina['id']}", data={"role": "member", "active": "no", "password": ""},
                              follow_redirects=False)
    assert deactivated.status_code == 303
    assert client.post("/login", data={"username": "mina", "password": "mina-pass-1"},
                       follow_redirects=False).status_code == 401

    me = users["admin"]["id"]
    self_demote = client.post(f"/admin/users/{me}", data={"role": "member", "active": "yes", "password": ""})
    assert self_demote.status_code == 409 and "your own administrator role" in self_demote.text
    assert client.post("/admin/users/999999", data={"role": "member"}).status_code == 404


def test_members_cannot_open_the_user_page_or_touch_others_tokens(client: TestClient) -> None:
    client.post("/api/v1/users", json={"username": "sam", "password": "password-123", "role": "member"})
    admins_token = client.post("/api/v1/tokens", json={"name": "admin-script"}).json()
    login(client, username="sam", password="password-123")
    assert client.post(f"/account/tokens/{admins_token['id']}/revoke").status_code == 404
    assert _bearer(client, admins_token["token"]) == 200
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users", data={"username": "evil", "role": "admin"}).status_code == 403
    assert client.get("/account").status_code == 200
