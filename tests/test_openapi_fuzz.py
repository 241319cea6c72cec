"""Schemathesis over the real app's OpenAPI: no operation answers a server error to generated input.

A seeded, bounded budget keeps it in the suite (about a minute); outside the suite the same check ran at 15 and
100 examples per operation against `mlpilot up` (`st run … --checks not_a_server_error`).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from mlpilot.app import create_app
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, dialect: str, databases: DatabaseFactory) -> object:
    from fastapi.testclient import TestClient

    app = create_app(make_settings(tmp_path_factory.mktemp("fuzz"), databases.new_url(dialect)))
    with TestClient(app) as client:  # runs the lifespan: migrations, bootstrap token, data plane
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        pid = client.post("/api/v1/projects", json={"name": "fuzzed"}).json()["id"]
        client.post(f"/api/v1/projects/{pid}/datasets", data={"name": "d"},
                    files={"file": ("d.csv", b"a,b\n1,2\n3,4\n", "text/csv")})
        yield app


def test_no_operation_answers_a_server_error(fuzz_app: object) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: list[str] = []
    answered: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/v2/"):
            continue  # the data plane has its own protocol and fault suites
        operations += 1

        @settings(max_examples=4, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        @given(operation.as_strategy())
        def check(case: object) -> None:
            response = case.call(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # type: ignore[attr-defined]
            answered.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} "  # type: ignore
                                f"{response.text[:200]}")

        check()
    assert operations > 100
    assert sum(code < 300 for code in answered) > 50, "the generated calls must reach the app, signed in"
    assert not failures, "server errors:\n" + "\n".join(sorted(set(failures)))

