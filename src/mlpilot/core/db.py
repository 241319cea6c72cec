"""Metadata database: declarative base, engine factory, sessions and the unit-of-work rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator

from mlpilot.core.errors import Conflict, InvalidInput, NotFound

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Store timestamps in UTC and always hand back aware datetimes (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5, sqlite_busy_timeout_ms: int = 15000,
                sqlite_savepoints: bool = False) -> Engine:
    """Create an engine for `url`; SQLite gets WAL, foreign keys and a busy timeout.

    `sqlite_savepoints` makes SQLAlchemy issue BEGIN itself so SAVEPOINTs work (rolled-back test sessions).
    The server keeps pysqlite's default — BEGIN only before the first write — because a read transaction
    held open by a long job would otherwise make its later write fail with SQLITE_BUSY under WAL.
    """
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": sqlite_busy_timeout_ms / 1000}
    else:
        kwargs.update(pool_size=pool_size, pool_pre_ping=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", _refuse_out_of_range_integers)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            if sqlite_savepoints:
                dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        if sqlite_savepoints:

            @event.listens_for(engine, "begin")
            def _sqlite_begin(connection: Any) -> None:
                connection.exec_driver_sql("BEGIN")

    return engine


INT64_MAX = 2**63 - 1


def _out_of_range(value: Any) -> bool:
    return type(value) is int and not -INT64_MAX - 1 <= value <= INT64_MAX


def _refuse_out_of_range_integers(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any,
                                  executemany: bool) -> None:
    """Refuse integers no database column holds, whichever path, query or body field they came from.

    SQLite raises OverflowError and PostgreSQL a type error for them — both 500s — so one check at the driver
    boundary turns every such id or count into a clear 422 instead of bounding each field by hand.
    """
    rows = parameters if executemany else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else row if isinstance(row, list | tuple) else (row,)
        if any(_out_of_range(value) for value in values):
            raise InvalidInput(f"A number in the request is out of range: ids and counts must lie between "
                               f"{-INT64_MAX - 1} and {INT64_MAX}.")


def engine_from_settings(settings: Any) -> Engine:
    """Create the engine the settings describe."""
    return make_engine(
        settings.database_url_resolved,
        echo=settings.db.echo,
        pool_size=settings.db.pool_size,
        sqlite_busy_timeout_ms=settings.db.sqlite_busy_timeout_ms,
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose sessions keep objects readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


_DEPTH_KEY = "mlpilot_uow_depth"


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Run one use case: only the outermost unit commits; nested ones flush; errors roll back.

    A database IntegrityError becomes a Conflict here, once, so services need not catch it.
    """
    depth = session.info.get(_DEPTH_KEY, 0)
    session.info[_DEPTH_KEY] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
        else:
            session.flush()
    except IntegrityError as exc:
        if depth == 0:
            session.rollback()
        raise Conflict(f"That conflicts with existing data: {_integrity_message(exc)}") from exc
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH_KEY] = depth


def in_unit_of_work(session: Session) -> bool:
    """Return whether a unit of work is open on `session` (so a nested one will not commit)."""
    return session.info.get(_DEPTH_KEY, 0) > 0


def _integrity_message(exc: IntegrityError) -> str:
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return text[:300]


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session for a job or CLI command and close it afterwards."""
    session = factory()
    try:
        yield session
    finally:
        session.close()


RowT = TypeVar("RowT", bound=Base)


def get_existing(session: Session, model: type[RowT], key: int, label: str,
                 options: Sequence[ORMOption] = ()) -> RowT:
    """Return the row of `model` with primary key `key`, or raise NotFound saying "<label> <key> does not exist."."""
    row = session.get(model, key, options=options)
    if row is None:
        raise NotFound(f"{label} {key} does not exist.")
    return row


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed (a conditional UPDATE's claim succeeded when 1)."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount or 0
