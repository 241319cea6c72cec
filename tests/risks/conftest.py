"""Risk fixtures: a live runtime whose pipelines retry in milliseconds and whose scheduler the tests drive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlpilot.core.runtime import Runtime
from tests.conftest import DatabaseFactory, make_settings
from tests.feeder.factories import FEEDER_SETTINGS, SourceDatabase


@pytest.fixture
def source(tmp_path: Path) -> SourceDatabase:
    return SourceDatabase(tmp_path / "legacy.sqlite")


@pytest.fixture(scope="module")
def risk_runtime(tmp_path_factory: pytest.TempPathFactory, dialect: str,
                 databases: DatabaseFactory) -> Iterator[Runtime]:
    """A migrated runtime with an admin and the real executor, shared by a module's tests (each its own project)."""
    from mlpilot.app import prepare_runtime

    tmp_path = tmp_path_factory.mktemp("risks")
    runtime = Runtime.from_settings(make_settings(tmp_path, databases.new_url(dialect), feeder=FEEDER_SETTINGS))
    prepare_runtime(runtime)
    runtime.start_executor()
    yield runtime
    runtime.close()
