"""The unit-of-work rule, SQLite pragmas and the migrations matching the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.models import User
from mlpilot.core.db import make_engine, unit_of_work
from mlpilot.core.errors import Conflict
from mlpilot.metadata import target_metadata
from mlpilot.migrations import pending_revisions, upgrade_database


def test_sqlite_has_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrations_create_every_model_table(engine: Engine) -> None:
    assert not pending_revisions(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), target_metadata)
    assert diff == [], f"models and migrations differ; run 'make migration': {diff}"


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade_database(engine)
    assert not pending_revisions(engine)


def test_outer_unit_commits_and_nested_units_only_flush(session: Session) -> None:
    with unit_of_work(session):
        accounts_service.create_user(session, username="outer")
        with unit_of_work(session):
            accounts_service.create_user(session, username="inner")
    assert {u.username for u in session.query(User)} >= {"outer", "inner"}


def test_error_rolls_back_the_whole_unit(session: Session) -> None:
    with pytest.raises(RuntimeError), unit_of_work(session):
        accounts_service.create_user(session, username="ghost")
        raise RuntimeError("boom")
    assert accounts_service.find_user_by_username(session, username="ghost") is None


def test_integrity_error_becomes_conflict(session: Session) -> None:
    accounts_service.create_user(session, username="dup")
    with pytest.raises(Conflict, match="conflicts with existing data"), unit_of_work(session):
        session.add(User(username="dup", role="member"))
        session.flush()


def test_rolled_back_session_leaves_nothing_behind(engine: Engine) -> None:
    """The session fixture's isolation itself: savepoint commits vanish with the outer rollback."""
    connection = engine.connect()
    outer = connection.begin()
    scoped = Session(bind=connection, join_transaction_mode="create_savepoint")
    accounts_service.create_user(scoped, username="isolated-user")
    scoped.close()
    outer.rollback()
    connection.close()
    with Session(engine) as fresh:
        assert accounts_service.find_user_by_username(fresh, username="isolated-user") is None
