"""Every route declares who may use it, and the rules hold for every kind of caller.

The walk reads each route's dependencies (decorator and signature, recursively): a route with no declared rule
fails, and so does a route whose path names a resource id that no rule checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from mlpilot.app import create_app
from mlpilot.web.access import rule_of
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings

# Ids checked by the service against the parent resource in the same path (a milestone of *this* project).
SCOPED_BY_PARENT = {"milestone_id": "project_id", "task_id": "project_id",
                    "dependency_id": "project_id", "external_engine_id": "project_id",
                    "user_id": "project_id", "version": "name", "filename": "model_version_id",
                    "node_id": "project_id", "cost_id": "project_id", "need_id": "project_id"}
# The communication log and deliverables (comms): looked up within the project of the path.
SCOPED_BY_PARENT.update({"meeting_id": "project_id", "request_id": "project_id", "email_id": "project_id",
                         "deliverable_id": "project_id"})
# Ids whose owner is the caller, checked by the service (your own tokens, your own account), or admin-only.
OWNED_BY_CALLER = {"/api/v1/tokens/{token_id}": "token_id", "/api/v1/users/{user_id}": "user_id",
                   "/account/tokens/{token_id}/revoke": "token_id"}
# Admin-only routes: a unit cost may be set for a service before it exists.
ADMIN_ONLY_PARAMS = {"subscription_id", "delivery_id", "service_name", "user_id", "kind"}
# Ids of things every signed-in user may read: the use-case catalog, the blueprint marketplace and the document
# templates (plan, status, interim, final; only admins change them).
CATALOG_PARAMS = {"key", "blueprint", "kind"}


def _rules(dependant: Any) -> Iterator[str]:
    for dep in dependant.dependencies:
        rule = rule_of(dep.call)
        if rule:
            yield rule
        yield from _rules(dep)


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str, list[str]]]:
    for route in routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, prefix + route.path, list(_rules(route.dependant))
        elif hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.120 keeps them nested)
            yield from _routes(route.original_router.routes, prefix + (route.include_context.prefix or ""))


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, list[str]]]:
    tmp = tmp_path_factory.mktemp("routes")
    app = create_app(make_settings(tmp, f"sqlite:///{tmp / 'm.db'}"))
    return list(_routes(app.routes))


def test_every_route_declares_a_rule(app_routes: list[tuple[str, str, list[str]]]) -> None:
    missing = [f"{method} {path}" for method, path, rules in app_routes if not rules]
    assert len(app_routes) > 150
    assert not missing, f"routes without an access rule: {missing}"


def test_every_resource_id_in_a_path_is_checked(app_routes: list[tuple[str, str, list[str]]]) -> None:
    unchecked = []
    for method, path, rules in app_routes:
        checked = {rule.rsplit(":", 1)[-1] for rule in rules if rule.count(":") == 2}
        for param in re.findall(r"\{(\w+)\}", path):
            if param in checked or OWNED_BY_CALLER.get(path) == param:
                continue
            if param in ADMIN_ONLY_PARAMS and {"role:admin", "admin"} & set(rules):
                continue
            if param in CATALOG_PARAMS and "signed-in" in rules:
                continue
            if SCOPED_BY_PARENT.get(param) in checked:
                continue
            unchecked.append(f"{method} {path} ({param}; rules {rules})")
    assert not unchecked, "path ids no rule checks:\n" + "\n".join(unchecked)


def test_the_walk_notices_a_route_without_a_rule(tmp_path: Path) -> None:
    """The walk itself can fail: a route added without a rule is reported."""
    from fastapi import FastAPI

    bare = FastAPI()

    @bare.get("/things/{thing_id}")
    def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    assert list(_routes(bare.routes)) == [("GET", "/things/{thing_id}", [])]


# The RBAC matrix ---------------------------------------------------------------------------------------------

ROLES = ("admin", "member", "viewer", "outsider", "anonymous")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory) -> Iterator[dict[str, Any]]:
    """Project A with a connection, dataset version, recipe, pipeline and report; users in each role."""
    tmp = tmp_path_factory.mktemp("rbac")
    settings = make_settings(tmp, databases.new_url("sqlite"))
    with TestClient(create_app(settings)) as client:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        tokens = {"admin": ADMIN_TOKEN}
        for name, role in (("mia", "member"), ("vic", "viewer"), ("otto", "member")):
            client.post("/api/v1/users", json={"username": name, "password": "password-123", "role": role},
                        headers=admin)
        pid = client.post("/api/v1/projects", json={"name": "A"}, headers=admin).json()["id"]
        other = client.post("/api/v1/projects", json={"name": "B"}, headers=admin).json()["id"]
        for name, project in (("mia", pid), ("vic", pid), ("otto", other)):
            added = client.post(f"/api/v1/projects/{project}/members", json={"username": name}, headers=admin)
            assert added.status_code in (200, 201), added.text
        for role, name in (("member", "mia"), ("viewer", "vic"), ("outsider", "otto")):
            signed = TestClient(client.app)
            assert signed.post("/login", data={"username": name, "password": "password-123"},
                               follow_redirects=False).status_code == 303
            tokens[role] = signed.post("/api/v1/tokens", json={"name": "t"}).json()["token"]
        csv = tmp / "in.csv"
        csv.write_text("a,b\n1,2\n3,4\n")
        conn = client.post(f"/api/v1/projects/{pid}/connections", headers=admin,
                           json={"name": "c", "kind": "file", "settings": {"path": str(csv)}}).json()["id"]
        upload = client.post(f"/api/v1/projects/{pid}/datasets", headers=admin, data={"name": "d"},
                             files={"file": ("d.csv", b"a,b\n1,2\n3,4\n", "text/csv")})
        assert upload.status_code in (200, 201, 202), upload.text
        recipe = client.post(f"/api/v1/projects/{pid}/recipes", headers=admin, json={"name": "r", "steps": []})
        yield {"client": client, "tokens": tokens, "pid": pid, "conn": conn,
               "recipe": recipe.json().get("id") if recipe.status_code == 201 else None}


# (method, path template, body, who may) — "read" = admin, member, viewer; "write" = admin, member.
CASES = [
    ("GET", "/api/v1/projects/{pid}", None, "read"),
    ("PATCH", "/api/v1/projects/{pid}", {"description": "x"}, "write"),
    ("GET", "/api/v1/projects/{pid}/connections", None, "read"),
    ("GET", "/api/v1/connections/{conn}", None, "read"),
    ("GET", "/api/v1/connections/{conn}/preview", None, "read"),
    ("POST", "/api/v1/connections/{conn}/ingest", {"dataset_name": "x"}, "write"),
    ("GET", "/api/v1/projects/{pid}/datasets", None, "read"),
    ("GET", "/api/v1/projects/{pid}/runs", None, "read"),
    ("GET", "/api/v1/projects/{pid}/milestones", None, "read"),
    ("POST", "/api/v1/projects/{pid}/milestones", {"name": "m", "start_date": "2030-01-01", "due_date": "2030-02-01"},
     "write"),
    ("GET", "/api/v1/projects/{pid}/critical-path", None, "read"),
    ("GET", "/api/v1/projects/{pid}/forecast", None, "read"),
    ("GET", "/api/v1/projects/{pid}/workload", None, "read"),
    ("PUT", "/api/v1/projects/{pid}/plan-window", {"start_date": "2020-01-01"}, "write"),
    ("GET", "/api/v1/projects/{pid}/reports", None, "read"),
    ("GET", "/api/v1/document-templates/status", None, "signed-in"),
    ("DELETE", "/api/v1/document-templates/status", None, "admin"),
    ("POST", "/api/v1/projects/{pid}/screenings", {"answers": dict.fromkeys(
        ("important", "real_problem", "unused_data", "needs_ml", "single_unit", "operable"), "yes")}, "write"),
    ("GET", "/api/v1/projects/{pid}/screenings/matrix", None, "read"),
    ("GET", "/api/v1/projects/{pid}/build-gate", None, "read"),
    ("GET", "/api/v1/users", None, "admin"),
    ("GET", "/api/v1/notifications/subscriptions", None, "admin"),
    ("GET", "/api/v1/monitoring/costs", None, "admin"),
    ("GET", "/api/v1/plan-templates", None, "signed-in"),
    ("POST", "/api/v1/plan-templates", {"key": "x", "name": {"en": "x", "ko": "x"},
                                        "tasks": [{"key": "a", "name": {"en": "a", "ko": "a"}, "duration_days": 1}]},
     "admin"),
]
ALLOWED = {"read": {"admin", "member", "viewer"}, "write": {"admin", "member"}, "admin": {"admin"},
           "signed-in": {"admin", "member", "viewer", "outsider"}}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "template", "body", "who"), CASES,
                         ids=[f"{m} {t}" for m, t, _, _ in CASES])
def test_rbac_matrix(world: dict[str, Any], role: str, method: str, template: str, body: Any, who: str) -> None:
    path = template.format(pid=world["pid"], conn=world["conn"])
    headers = {"Authorization": f"Bearer {world['tokens'][role]}"} if role != "anonymous" else {"Authorization": ""}
    answer = world["client"].request(method, path, json=body, headers=headers)
    if role in ALLOWED[who]:
        assert answer.status_code < 400, (role, method, path, answer.status_code, answer.text)
    else:
        assert answer.status_code in (401, 403, 404), (role, method, path, answer.status_code, answer.text)


def test_lists_show_only_the_callers_projects(world: dict[str, Any]) -> None:
    client, tokens, pid = world["client"], world["tokens"], world["pid"]
    outsider = {"Authorization": f"Bearer {tokens['outsider']}"}
    member = {"Authorization": f"Bearer {tokens['member']}"}
    assert [p["id"] for p in client.get("/api/v1/projects", headers=outsider).json()] != [pid]
    assert all(j["project_id"] != pid for j in client.get("/api/v1/jobs", headers=outsider).json())
    assert any(j["project_id"] == pid for j in client.get("/api/v1/jobs", headers=member).json())
    assert client.get("/api/v1/scoring/runs", headers=outsider).json() == []
    assert client.get("/api/v1/monitoring/alert-rules", headers=outsider).json() == []
