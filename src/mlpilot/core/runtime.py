"""Runtime: the live pieces one process shares — settings, database, store, executor, data plane."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mlpilot.core.allowlist import AllowList, build_allowlist
from mlpilot.core.db import engine_from_settings, make_sessionmaker
from mlpilot.core.periodic import PeriodicTask
from mlpilot.core.storage import ArtifactStore, S3Options
from mlpilot.settings import Settings

if TYPE_CHECKING:
    from mlpilot.core.jobs import Executor

PartT = TypeVar("PartT")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ArtifactStore
    executor: Executor | None = None
    # The in-process data plane (mlpilot.dataplane.server.DataPlane) when this process serves models. Core may not
    # import the data plane, so domains read it typed through `serving.traffic.attached_dataplane(runtime)`.
    dataplane: object | None = None
    # What domains start for this runtime (telemetry sink, schedulers, token sync, the bootstrap result), by name;
    # read back with `part(name, Type)`, which checks the type.
    parts: dict[str, object] = field(default_factory=dict)

    def part(self, name: str, kind: type[PartT]) -> PartT | None:
        """Return the part started under `name` if it is a `kind`, else None."""
        found = self.parts.get(name)
        return found if isinstance(found, kind) else None

    def pop_part(self, name: str, kind: type[PartT]) -> PartT | None:
        """Remove and return the part under `name` if it is a `kind`."""
        found = self.part(name, kind)
        if found is not None:
            del self.parts[name]
        return found

    def start_loop(self, name: str, make: Callable[[], PeriodicTask]) -> PeriodicTask:
        """Start the background loop `make()` builds under `name`, unless one runs there; starting twice is harmless."""
        loop = self.part(name, PeriodicTask)
        if loop is None:
            loop = make()
            self.parts[name] = loop
            loop.start()
        return loop

    def stop_loop(self, name: str) -> None:
        """Stop the background loop under `name`, if one runs."""
        loop = self.pop_part(name, PeriodicTask)
        if loop is not None:
            loop.stop()

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: Engine | None = None) -> Runtime:
        """Build the runtime the settings describe; the executor is attached by start()."""
        engine = engine or engine_from_settings(settings)
        storage = settings.storage
        secret = storage.secret_access_key.get_secret_value() if storage.secret_access_key else None
        s3 = S3Options(endpoint_url=storage.endpoint_url, access_key_id=storage.access_key_id,
                       secret_access_key=secret, region=storage.region)
        store = ArtifactStore(settings.storage_url_resolved, settings.cache_dir_resolved, s3=s3)
        # Where users drop files for connections and scoring: the one folder the default allow-list admits.
        settings.imports_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store)

    @cached_property
    def allowlist(self) -> AllowList:
        """The admin's allow-list for sources, sinks and outbound calls, with the server's own files reserved."""
        return allowlist_from_settings(self.settings, self.engine)

    def start_executor(self) -> None:
        """Attach the configured executor."""
        if self.executor is not None:
            return
        from mlpilot.core.jobs import LocalExecutor
        from mlpilot.metadata import load_services

        load_services()  # every job kind's handler and interrupt hook, before any job runs or is reclaimed
        if self.settings.jobs.executor == "ray":
            from mlpilot.core.ray_executor import RayExecutor

            self.executor = RayExecutor(self)  # raises, naming the address, when the cluster is unreachable
            return
        if self.settings.jobs.executor == "queue":
            from mlpilot.core.jobs import QueueExecutor

            self.executor = QueueExecutor(self)
            return
        self.executor = LocalExecutor(self, self.settings.jobs.workers)

    def close(self) -> None:
        """Stop the executor and release connections."""
        if self.executor is not None:
            self.executor.shutdown(wait=False)
            self.executor = None
        self.engine.dispose()


def allowlist_from_settings(settings: Settings, engine: Engine | None = None) -> AllowList:
    """Return the allow-list the settings describe; the metadata database and store are always reserved."""
    reserved = [settings.cache_dir_resolved, settings.config_file]
    if "://" not in settings.storage_url_resolved or settings.storage_url_resolved.startswith("file://"):
        reserved.append(Path(settings.storage_url_resolved.removeprefix("file://")))
    if settings.serving.compile_cache_dir is not None:
        reserved.append(settings.serving.compile_cache_dir)
    metadata_database = None
    if engine is not None:
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database:
            reserved.append(Path(url.database))
        elif url.database:
            metadata_database = (url.host or "localhost", url.port, url.database)
    return build_allowlist(
        roots=[settings.imports_dir, *settings.sources.roots], reserved=reserved,
        sqlite_files=settings.sources.sqlite_files, hosts=settings.sources.hosts, networks=settings.sources.networks,
        home=settings.data_dir, imports=settings.imports_dir, metadata_database=metadata_database)
