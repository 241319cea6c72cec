"""Runtime: the live pieces one process shares — settings, database, store, executor, data plane."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mlpilot.core.db import engine_from_settings, make_sessionmaker
from mlpilot.core.storage import ArtifactStore
from mlpilot.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ArtifactStore
    executor: Any = None
    # The in-process data plane (mlpilot.dataplane.DataPlane) when this process serves models.
    dataplane: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: Engine | None = None) -> Runtime:
        """Build the runtime the settings describe; the executor is attached by start()."""
        engine = engine or engine_from_settings(settings)
        store = ArtifactStore(settings.storage_url_resolved, settings.cache_dir_resolved)
        return cls(settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store)

    def start_executor(self) -> None:
        """Attach the configured executor."""
        if self.executor is not None:
            return
        if self.settings.jobs.executor == "ray":
            from mlpilot.core.errors import InvalidInput

            raise InvalidInput("MLPILOT_JOBS__EXECUTOR=ray is not available yet; use 'local'.")
        from mlpilot.core.jobs import LocalExecutor

        self.executor = LocalExecutor(self, self.settings.jobs.workers)

    def close(self) -> None:
        """Stop the executor and release connections."""
        if self.executor is not None:
            self.executor.shutdown(wait=False)
            self.executor = None
        self.engine.dispose()
