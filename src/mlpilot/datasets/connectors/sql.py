"""The `sql` connector: a table or a read-only query of any SQLAlchemy database, read in chunks.

Queries must be a single SELECT (or WITH … SELECT) statement and run in a read-only transaction where the
dialect allows it (PostgreSQL, MySQL/MariaDB, SQLite). Incremental extraction filters on a watermark column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from mlpilot.core.allowlist import AllowList
from mlpilot.datasets.connectors.base import BaseConnector, ConnectorError, parse_watermark

CONNECT_TIMEOUT_S = 10
# Words that change data or take locks; matched as whole words outside strings, comments and quoted names.
FORBIDDEN = ("insert", "update", "delete", "merge", "upsert", "replace", "drop", "create", "alter", "truncate",
             "grant", "revoke", "into", "copy", "call", "exec", "execute", "lock", "vacuum", "analyze", "attach",
             "detach", "pragma", "set", "load", "handler", "rename", "comment", "do", "begin", "commit", "rollback")
_STRINGS_AND_COMMENTS = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|\#[^\n]*|/\*.*?\*/""", re.DOTALL)


def check_read_only_query(query: str) -> str:
    """Return the query without a trailing semicolon if it is one SELECT/WITH statement; else raise."""
    stripped = (query or "").strip()
    if not stripped:
        raise ConnectorError("The query is empty; write a SELECT statement.")
    masked = _STRINGS_AND_COMMENTS.sub(lambda m: " " if m.group(0)[0] in "-#/" else "''", stripped)
    if masked.rstrip().endswith(";"):
        cut = masked.rstrip()[:-1]
        masked = cut
        stripped = stripped.rstrip()
        stripped = stripped[: stripped.rfind(";")].rstrip()
    if not stripped:
        raise ConnectorError("The query is empty; write a SELECT statement.")
    if ";" in masked:
        raise ConnectorError("The query holds more than one statement; only a single SELECT is allowed.")
    words = re.findall(r"[A-Za-z_]+", masked.lower())
    if not words or words[0] not in ("select", "with"):
        raise ConnectorError(f"Only read-only queries are allowed: the query must start with SELECT or WITH, "
                             f"not {words[0].upper() if words else masked[:20]!r}.")
    found = sorted({w for w in words if w in FORBIDDEN})
    if found:
        raise ConnectorError(f"Only read-only queries are allowed: {', '.join(w.upper() for w in found)} "
                             "may change data or take locks (quote a column with that name).")
    return stripped


class SqlConnector(BaseConnector):
    """A database table or a read-only query, by SQLAlchemy URL.

    Settings: `url` (e.g. postgresql+psycopg://user@host:5432/db; a password given in it is moved to the
    secrets), `table` (name or schema.name) or `query` (one SELECT), `watermark_column` for incremental runs.
    Secret: `password`.
    """

    kind: ClassVar[str] = "sql"
    secret_fields: ClassVar[tuple[str, ...]] = ("password",)
    known_settings: ClassVar[tuple[str, ...]] = ("url", "table", "query")

    def __init__(self, settings: dict[str, Any], secrets: dict[str, Any]) -> None:
        super().__init__(settings, secrets)
        raw_url = str(self.settings.get("url") or "").strip()
        if not raw_url:
            raise ConnectorError("A sql connection needs a url, e.g. postgresql+psycopg://user@host:5432/db.")
        try:
            url = make_url(raw_url)
        except ArgumentError:
            raise ConnectorError(f"{raw_url!r} is not a SQLAlchemy database URL "
                                 "(dialect+driver://user@host:port/database).") from None
        if self.secrets.get("password"):
            url = url.set(password=str(self.secrets["password"]))
        self.url = url
        self.table = str(self.settings.get("table") or "").strip() or None
        query = str(self.settings.get("query") or "").strip() or None
        if bool(self.table) == bool(query):
            raise ConnectorError("Give either a table or a query (exactly one of them).")
        self.query = check_read_only_query(query) if query else None
        if self.table and not re.fullmatch(r"[\w$]+(\.[\w$]+)?", self.table):
            raise ConnectorError(f"{self.table!r} is not a table name (name or schema.name).")

    @classmethod
    def split_secrets(cls, settings: dict[str, Any], secrets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Move a password written in the URL (or given as a setting) into the secrets."""
        settings, secrets = super().split_secrets(settings, secrets)
        raw = settings.get("url")
        if raw:
            try:
                url = make_url(str(raw))
            except ArgumentError:
                return settings, secrets
            if url.password:
                secrets.setdefault("password", url.password)
                settings["url"] = _without_password(url).render_as_string(hide_password=False)
        return settings, secrets

    # Protocol ---------------------------------------------------------------------------------------------

    def test(self) -> str:
        """Connect, check the table or query runs, and return what was found."""
        with self._connection() as conn:
            result = self._execute(conn.execution_options(stream_results=True), self._select(limit=1))
            try:
                names = list(result.keys())
                result.fetchmany(1)
            finally:
                result.close()
        self.check_column_names(names, source=self.where)
        return (f"Connected to {self.url.get_backend_name()} at {self._public_url()}; {self.where} has "
                f"{len(names)} column(s): {', '.join(names[:20])}{'…' if len(names) > 20 else ''}.")

    def preview(self, limit: int = 20) -> pl.DataFrame:
        """Return the first `limit` rows."""
        with self._connection() as conn:
            result = self._execute(conn.execution_options(stream_results=True), self._select(limit=limit))
            try:
                names = list(result.keys())
                self.check_column_names(names, source=self.where)
                return _frame(names, result.fetchmany(limit))
            finally:
                result.close()

    def read(self, *, watermark: str | None = None, chunk_rows: int = 100_000) -> Iterator[pl.DataFrame]:
        """Yield the rows in chunks of `chunk_rows` (streamed by the server), newer than the watermark if set."""
        self.quarantined = []
        with self._connection() as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=max(1, chunk_rows))
            result = self._execute(streaming, self._select(watermark=watermark))
            try:
                names = list(result.keys())
                self.check_column_names(names, source=self.where)
                if self.watermark_column and self.watermark_column not in names:
                    raise ConnectorError(f"{self.where}: the watermark column {self.watermark_column!r} does not "
                                         f"exist; columns are {', '.join(names)}.")
                for rows in result.partitions(max(1, chunk_rows)):
                    yield _frame(names, rows)
            except DBAPIError as exc:
                raise self._error(exc) from None
            finally:
                result.close()

    # SQL --------------------------------------------------------------------------------------------------

    @property
    def where(self) -> str:
        return f"table {self.table}" if self.table else "the query"

    def _public_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def check_allowed(self, guard: AllowList) -> None:
        """Refuse the metadata database, SQLite files an admin did not allow, private hosts and unsafe options."""
        super().check_allowed(guard)
        guard.database_url(self.url, field_name="url")

    def _engine(self) -> Engine:
        if self.guard is not None:  # again at every open: a host name may resolve elsewhere by now
            self.guard.database_url(self.url, field_name="url")
        backend = self.url.get_backend_name()
        connect_args: dict[str, Any] = {}
        if backend in ("postgresql", "mysql", "mariadb"):
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        try:
            return sa.create_engine(self.url, poolclass=NullPool, connect_args=connect_args)
        except NoSuchModuleError:
            raise ConnectorError(f"No SQLAlchemy dialect for {self.url.drivername!r}; install its driver.") from None
        except (ImportError, ModuleNotFoundError) as exc:
            raise ConnectorError(f"The database driver for {self.url.drivername!r} is not installed: {exc}.") \
                from None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        engine = self._engine()
        try:
            try:
                conn = engine.connect()
            except DBAPIError as exc:
                raise ConnectorError(
                    f"Cannot connect to {self._public_url()}: {_first_line(exc.orig)}. Check the host, port, "
                    "user and password, and that the server is running.", transient=True) from None
            try:
                self._read_only(conn)
                yield conn
            finally:
                try:
                    conn.rollback()
                finally:
                    conn.close()
        finally:
            engine.dispose()

    def _read_only(self, conn: Connection) -> None:
        """Make this transaction read-only where the dialect can; the static query check still applies."""
        name = conn.dialect.name
        try:
            if name == "postgresql" or name in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            elif name == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
        except DBAPIError as exc:
            raise self._error(exc) from None

    def _select(self, *, watermark: str | None = None, limit: int | None = None) -> sa.Executable:
        if self.query and not self.watermark_column:
            # Run the user's query as written (its own column names; the caller fetches only what it needs).
            return sa.text(self.query)
        if self.table:
            schema, _, name = self.table.rpartition(".")
            source: Any = sa.table(name, schema=schema or None)
        else:
            # The newline ends a trailing "-- comment" before the closing parenthesis.
            source = sa.text(f"{self.query}\n").columns().subquery("mlpilot_src")
        stmt: sa.Select[Any] = sa.select(sa.literal_column("*")).select_from(source)
        if self.watermark_column:
            column: sa.ColumnClause[Any] = sa.column(self.watermark_column)
            if watermark is not None:
                stmt = stmt.where(column > sa.bindparam("watermark", parse_watermark(watermark)))
            stmt = stmt.order_by(column)
        if limit is not None:
            stmt = stmt.limit(limit)
        return stmt

    def _execute(self, conn: Connection, stmt: sa.Executable) -> sa.CursorResult[Any]:
        try:
            return conn.execute(stmt)
        except DBAPIError as exc:
            raise self._error(exc) from None
        except SQLAlchemyError as exc:
            raise ConnectorError(f"{self.where} cannot be read: {_first_line(exc)}") from None

    def _error(self, exc: DBAPIError) -> ConnectorError:
        transient = bool(exc.connection_invalidated) or isinstance(exc, sa.exc.OperationalError) and \
            _looks_like_network(exc)
        return ConnectorError(f"{self.where} on {self._public_url()} cannot be read: {_first_line(exc.orig)}",
                              transient=transient)


def _without_password(url: sa.URL) -> sa.URL:
    return sa.URL.create(url.drivername, username=url.username, host=url.host, port=url.port,
                         database=url.database, query=url.query)


def _looks_like_network(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(word in text for word in ("connection", "timeout", "timed out", "server closed", "lost",
                                          "refused", "could not connect", "can't connect"))


def _first_line(exc: BaseException | None) -> str:
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _frame(names: list[str], rows: Sequence[Any]) -> pl.DataFrame:
    frame = pl.DataFrame([tuple(r) for r in rows], schema=names, orient="row", infer_schema_length=None)
    # Decimal scales differ between chunks; features are floats anyway.
    decimals = [n for n, t in frame.schema.items() if isinstance(t, pl.Decimal)]
    return frame.with_columns(pl.col(decimals).cast(pl.Float64)) if decimals else frame
