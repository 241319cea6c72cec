"""Shared fixtures: databases per dialect, rolled-back sessions, a live app with a real executor.

Every fixture that touches the metadata database is parametrized over SQLite and, when
MLPILOT_TEST_POSTGRES_URL is set, PostgreSQL. Schemas come from the real Alembic migrations.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from mlpilot.core import security
from mlpilot.core.db import make_engine
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.migrations import upgrade_database
from mlpilot.settings import Settings, get_settings

ADMIN_TOKEN = "test-admin-token-0123456789-abcdefghij"
ADMIN_PASSWORD = "admin-password-123"
POSTGRES_URL = os.environ.get("MLPILOT_TEST_POSTGRES_URL")
DIALECTS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
# Argon2id's production cost (64 MiB, 3 passes: about half a second here) is the point in production, and the suite
# would pay it for the admin of every app it starts. The cheapest parameters keep the same code and hash format.
security.use_password_cost(time_cost=1, memory_kib=8)


class DatabaseFactory:
    """Creates throw-away databases: SQLite files, or PostgreSQL databases on the test server.

    Databases come already migrated, copied from one template per dialect migrated once per run (a file copy,
    or CREATE DATABASE ... TEMPLATE): running the migrations for each of several hundred tests cost minutes.
    The app's own start-up still runs `upgrade_database`, which finds nothing to do. `migrated=False` gives an
    empty database, for tests of the migrations themselves.
    """

    def __init__(self, tmp_root: Path) -> None:
        self.tmp_root = tmp_root
        self.created: list[str] = []
        self._templates: dict[str, str] = {}

    def _empty(self, dialect: str) -> str:
        if dialect == "sqlite":
            path = self.tmp_root / f"db-{uuid.uuid4().hex[:8]}.sqlite"
            return f"sqlite:///{path}"
        assert POSTGRES_URL
        name = f"mlpilot_t_{uuid.uuid4().hex[:10]}"
        self._create_pg(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    @staticmethod
    def _create_pg(statement: str) -> None:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(statement))
        admin.dispose()

    def _template(self, dialect: str) -> str:
        if dialect not in self._templates:
            url = self._empty(dialect)
            eng = make_engine(url)
            upgrade_database(eng)
            if dialect == "sqlite":
                with eng.connect() as conn:  # everything into the main file before it is copied
                    conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            eng.dispose()  # a PostgreSQL template must have no open connections
            self._templates[dialect] = url
        return self._templates[dialect]

    def new_url(self, dialect: str, *, migrated: bool = True) -> str:
        if not migrated:
            return self._empty(dialect)
        template = self._template(dialect)
        if dialect == "sqlite":
            path = self.tmp_root / f"db-{uuid.uuid4().hex[:8]}.sqlite"
            shutil.copyfile(make_url(template).database, path)
            return f"sqlite:///{path}"
        name = f"mlpilot_t_{uuid.uuid4().hex[:10]}"
        self._create_pg(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
        self.created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session", params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def engine(dialect: str, databases: DatabaseFactory) -> Iterator[Engine]:
    """One migrated database per dialect for the whole run; tests use rolled-back sessions on it."""
    # Empty, then migrated here: this is the database the migration tests check.
    eng = make_engine(databases.new_url(dialect, migrated=False), sqlite_savepoints=True)
    upgrade_database(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose commits become savepoints inside a transaction rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db_session
    finally:
        db_session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "store"), tmp_path / "cache")


def expire_job_leases(runtime: Runtime) -> None:
    """Make every unfinished job look like its process died long ago (what kill -9 leaves after the lease)."""
    from sqlalchemy import update

    from mlpilot.core import jobs
    from mlpilot.core.db import session_scope, unit_of_work, utcnow

    with session_scope(runtime.sessions) as session, unit_of_work(session):
        session.execute(update(jobs.Job).where(jobs.Job.state.in_(list(jobs.ACTIVE)))
                        .values(lease_expires_at=utcnow() - dt.timedelta(hours=1)))


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    """Settings for a throw-away installation under tmp_path."""
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "bootstrap_token": ADMIN_TOKEN,
        "admin_password": ADMIN_PASSWORD,
        # The run's temporary folders and loopback servers (test databases, receivers) are what an admin would
        # allow; the allow-list tests build settings without them to see the refusals.
        "sources": {"roots": [tmp_path.parent], "hosts": ["127.0.0.1", "localhost", "::1"]},
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, dialect: str, databases: DatabaseFactory) -> Settings:
    return make_settings(tmp_path, databases.new_url(dialect))


@pytest.fixture
def live_runtime(settings: Settings) -> Iterator[Runtime]:
    """A runtime on a fresh migrated database with the real local executor, for service-level tests."""
    runtime = Runtime.from_settings(settings)
    upgrade_database(runtime.engine)
    runtime.start_executor()
    yield runtime
    runtime.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app on a fresh database, started through its lifespan, authenticated as the admin."""
    from mlpilot.app import create_app

    app = create_app(settings)
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield test_client


@pytest.fixture
def runtime(client: TestClient) -> Runtime:
    """The live runtime behind `client` (database, store, executor, data plane)."""
    return client.app.state.runtime


@pytest.fixture
def live_server_url(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Serve the already started app of `client` over HTTP (its lifespan is owned by the test client)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(client.app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
        assert thread.is_alive(), "the test server did not start"
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MLPILOT_URL", url)
    monkeypatch.setenv("MLPILOT_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    server.should_exit = True
    thread.join(10)


class RayCluster:
    """A real local Ray cluster for the `ray` tests: a head that runs no tasks and worker nodes of one CPU each."""

    def __init__(self, workers: int) -> None:
        from ray.cluster_utils import Cluster

        self.cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, **RAY_NODE})
        for _ in range(workers):
            self.cluster.add_node(num_cpus=1, **RAY_NODE)
        self.cluster.wait_for_nodes()
        self.address: str = self.cluster.address

    def kill_node(self, node_id: str) -> None:
        """Kill the worker node `node_id` (raylet and its workers, as a lost machine) and add a fresh one."""
        [node] = [n for n in self.cluster.worker_nodes if n.node_id == node_id]
        self.cluster.remove_node(node, allow_graceful=False)
        self.cluster.add_node(num_cpus=1, **RAY_NODE)
        self.cluster.wait_for_nodes()


RAY_NODE: dict[str, object] = {"object_store_memory": 80 * 1024 * 1024}


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """ONE cluster for the whole run (starting one takes tens of seconds); this process is its driver."""
    import ray

    root = Path(__file__).resolve().parents[1]
    # Workers import mlpilot (and the test modules whose job kinds they run) from this checkout.
    os.environ["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(root), os.environ.get("PYTHONPATH", "")])
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    cluster = RayCluster(workers=2)
    ray.init(address=cluster.address, namespace="mlpilot", log_to_driver=False, logging_level="WARNING")
    yield cluster
    ray.shutdown()
    cluster.cluster.shutdown()


CHROMIUM = Path(os.environ.get("MLPILOT_TEST_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One Debian Chromium per test module (a launch costs about a second); each test gets fresh contexts.

    Not per session: Playwright's sync API keeps its event loop current in this thread while it is started, and
    tests that run an asyncio loop themselves (the data plane's batching) would find it "already running"."""
    assert CHROMIUM.exists(), "Debian's chromium is required: apt-get install -y chromium (make test installs it)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


PageOpener = Callable[..., Page]


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[PageOpener]:
    """Open pages in fresh browser contexts (own cookies); the test fails on any JavaScript error they raise."""
    contexts = []
    errors: list[str] = []

    def open_one(locale: str = "en-US", width: int = 1280, height: int = 900) -> Page:
        context = chromium.new_context(locale=locale, viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(open_page: PageOpener) -> Page:
    """A page in English at 1280 × 900."""
    return open_page()
