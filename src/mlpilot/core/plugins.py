"""AdapterRegistry: one registry per adapter kind, filled from an entry-point group."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from mlpilot.core.errors import NotFound

T = TypeVar("T")
log = logging.getLogger(__name__)


class AdapterRegistry(Generic[T]):
    """Maps names to adapter classes declared under an entry-point group; broken ones are logged and skipped."""

    def __init__(self, group: str, kind: str) -> None:
        self.group = group
        self.kind = kind
        self._adapters: dict[str, type[T]] | None = None
        self.failures: dict[str, str] = {}

    def _load(self) -> dict[str, type[T]]:
        if self._adapters is None:
            adapters: dict[str, type[T]] = {}
            for ep in entry_points(group=self.group):
                try:
                    adapters[ep.name] = ep.load()
                except Exception as exc:  # a third-party adapter must not take the platform down
                    self.failures[ep.name] = f"{type(exc).__name__}: {exc}"
                    log.warning("skipping %s %r: %s", self.kind, ep.name, exc)
            self._adapters = adapters
        return self._adapters

    def register(self, name: str, adapter: type[T]) -> None:
        """Add an adapter by hand (tests, embedding applications)."""
        self._load()[name] = adapter

    def names(self) -> list[str]:
        """Return the registered names, sorted."""
        return sorted(self._load())

    def get(self, name: str) -> type[T]:
        """Return the adapter class called `name`."""
        adapters = self._load()
        if name not in adapters:
            raise NotFound(f"No {self.kind} named {name!r}; available: {', '.join(sorted(adapters)) or 'none'}.")
        return adapters[name]
