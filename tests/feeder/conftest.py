"""Feeder fixtures: a runtime and an app whose retries wait milliseconds and whose scheduler tests drive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.runtime import Runtime
from tests.conftest import ADMIN_TOKEN, DatabaseFactory, make_settings
from tests.feeder.factories import FEEDER_SETTINGS, SourceDatabase


@pytest.fixture
def source(tmp_path: Path) -> SourceDatabase:
    return SourceDatabase(tmp_path / "legacy.sqlite")


@pytest.fixture(scope="module")
def feeder_runtime(tmp_path_factory: pytest.TempPathFactory, dialect: str,
                   databases: DatabaseFactory) -> Iterator[Runtime]:
    """A migrated runtime with an admin and the real executor (the scheduler thread is not started).

    Shared by a module's tests (each builds its own project): a database per test costs seconds on PostgreSQL.
    """
    from mlpilot.app import prepare_runtime

    tmp_path = tmp_path_factory.mktemp("feeder")
    runtime = Runtime.from_settings(make_settings(tmp_path, databases.new_url(dialect), feeder=FEEDER_SETTINGS))
    prepare_runtime(runtime)
    runtime.start_executor()
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def feeder_client(tmp_path_factory: pytest.TempPathFactory, dialect: str,
                  databases: DatabaseFactory) -> Iterator[TestClient]:
    """The real app with tiny retry delays, authenticated as the admin (shared by a module's tests)."""
    from mlpilot.app import create_app

    tmp_path = tmp_path_factory.mktemp("feeder-app")
    app = create_app(make_settings(tmp_path, databases.new_url(dialect), feeder=FEEDER_SETTINGS))
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client
