"""The worked example of docs/architecture.md ("Adding a connector"), kept running so the doc cannot rot."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, ClassVar

import polars as pl

from mlpilot.core.allowlist import AllowList
from mlpilot.datasets.connectors import BaseConnector, ConnectorError, connectors
from mlpilot.testing.connectors import check_connector


class InlineConnector(BaseConnector):
    """A small lookup table typed into the connection itself as CSV text (no file, no network)."""

    kind: ClassVar[str] = "inline"
    known_settings: ClassVar[tuple[str, ...]] = ("csv",)
    MAX_CHARS: ClassVar[int] = 100_000

    def __init__(self, settings: dict[str, Any], secrets: dict[str, Any]) -> None:
        super().__init__(settings, secrets)
        text = self.settings.get("csv")
        if not isinstance(text, str) or not text.strip():
            raise ConnectorError("settings.csv: expected the table as CSV text with a header line.")
        if len(text) > self.MAX_CHARS:
            raise ConnectorError(f"settings.csv: {len(text):,} characters; an inline table holds at most "
                                 f"{self.MAX_CHARS:,} (use a file connection for more).")
        self.text = text

    def check_allowed(self, guard: AllowList) -> None:
        self.guard = guard  # nothing outside the connection is read, so every allow-list admits it

    def _frame(self) -> pl.DataFrame:
        try:
            frame = pl.read_csv(io.StringIO(self.text))
        except pl.exceptions.PolarsError as exc:
            raise ConnectorError(f"settings.csv is not valid CSV: {exc}") from None
        self.check_column_names(frame.columns, source="settings.csv")
        return frame

    def test(self) -> str:
        frame = self._frame()
        return f"{frame.height} rows × {frame.width} columns"

    def preview(self, limit: int = 20) -> pl.DataFrame:
        return self._frame().head(limit)

    def read(self, *, watermark: str | None = None, chunk_rows: int = 100_000) -> Iterator[pl.DataFrame]:
        frame = self.filter_newer(self._frame(), watermark, source="settings.csv")
        yield from frame.iter_slices(chunk_rows)


def test_the_worked_example_passes_the_conformance_kit() -> None:
    check_connector(InlineConnector, {"csv": "day,sales\n2026-01-01,3\n2026-01-02,5\n2026-01-03,4\n",
                                      "watermark_column": "day"})


def test_the_worked_example_is_found_through_the_registry() -> None:
    connectors.register("inline", InlineConnector)
    try:
        assert connectors.get("inline") is InlineConnector and "inline" in connectors.names()
    finally:
        connectors._load().pop("inline", None)
