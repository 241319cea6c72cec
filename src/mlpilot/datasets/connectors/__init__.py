"""Connectors: adapters that read a source (files, SQL databases…) as Polars frames, behind one registry.

Every connector class follows the `Connector` protocol and is declared under the `mlpilot.connectors` entry-point
group (mlpilot's own `file` and `sql` too); `mlpilot.testing.connectors.check_connector` is its conformance kit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Protocol, runtime_checkable

import polars as pl

from mlpilot.core.allowlist import AllowList
from mlpilot.core.limits import SizeLimits
from mlpilot.core.plugins import AdapterRegistry
from mlpilot.datasets.connectors.base import BAD_ROW_POLICIES, BaseConnector, ConnectorError, QuarantinedRow


@runtime_checkable
class Connector(Protocol):
    """Reads one configured source. `settings` are plain (shown to users, kept in lineage); `secrets` never are."""

    kind: ClassVar[str]
    secret_fields: ClassVar[tuple[str, ...]]
    # Caps on what one read may expand to (gzip) or hold; the control plane sets them from its settings.
    limits: SizeLimits

    def __init__(self, settings: dict[str, Any], secrets: dict[str, Any]) -> None: ...

    def check_allowed(self, guard: AllowList) -> None:
        """Refuse a source outside the admin's allow-list (raise InvalidInput); keep the list for every later open."""
        ...

    def test(self) -> str:
        """Check the source can be reached and read; return a one-line summary or raise ConnectorError."""
        ...

    def preview(self, limit: int = 20) -> pl.DataFrame:
        """Return the first `limit` rows."""
        ...

    def read(self, *, watermark: str | None = None, chunk_rows: int = 100_000) -> Iterator[pl.DataFrame]:
        """Yield the source's rows in chunks; with a watermark column configured, only rows newer than `watermark`."""
        ...

    def new_watermark(self, frame: pl.DataFrame | pl.LazyFrame) -> str | None:
        """Return the watermark after reading `frame` (the greatest watermark-column value), or None."""
        ...


connectors: AdapterRegistry[Connector] = AdapterRegistry("mlpilot.connectors", "connector")

__all__ = ["BAD_ROW_POLICIES", "BaseConnector", "Connector", "ConnectorError", "QuarantinedRow", "connectors"]
