"""check_connector(): the contract every connector must honour, run against a source the caller prepared.

Third-party connectors run it in their own test suites: `check_connector(MyConnector, {"path": ...})` raises
AssertionError naming the broken rule.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from mlpilot.core.allowlist import AllowList
from mlpilot.core.errors import InvalidInput
from mlpilot.datasets.connectors import Connector, ConnectorError


def check_connector(connector_cls: type, settings: dict[str, Any], secrets: dict[str, Any] | None = None, *,
                    local_source: bool = False) -> None:
    """Instantiate `connector_cls` on a readable, non-empty source and check the Connector protocol.

    With `local_source` (a source on this machine or its network), an allow-list that allows nothing must refuse it.
    """
    kind = getattr(connector_cls, "kind", None)
    assert isinstance(kind, str) and kind, \
        "the class needs a non-empty `kind` string"
    assert isinstance(getattr(connector_cls, "secret_fields", None), tuple), "`secret_fields` must be a tuple"
    assert issubclass(ConnectorError, InvalidInput), "ConnectorError must stay an InvalidInput"
    connector = connector_cls(dict(settings), dict(secrets or {}))
    assert isinstance(connector, Connector), "the instance must follow the Connector protocol"

    if local_source:
        try:
            connector_cls(dict(settings), dict(secrets or {})).check_allowed(AllowList())
        except InvalidInput:
            pass
        else:
            raise AssertionError("check_allowed() must refuse a local source that the allow-list does not admit")

    message = connector.test()
    assert isinstance(message, str) and message.strip(), "test() must return a non-empty summary"

    preview = connector.preview(3)
    assert isinstance(preview, pl.DataFrame), "preview() must return a Polars DataFrame"
    assert 1 <= preview.height <= 3, "preview(limit) must return between 1 and `limit` rows of a non-empty source"
    assert len(set(preview.columns)) == preview.width and all(c.strip() for c in preview.columns), \
        "column names must be unique and non-empty"

    chunks = list(connector.read(chunk_rows=2))
    assert chunks, "read() must yield at least one chunk for a non-empty source"
    assert all(isinstance(c, pl.DataFrame) for c in chunks), "read() must yield Polars DataFrames"
    assert all(c.height <= 2 for c in chunks), "read(chunk_rows=n) must yield chunks of at most n rows"
    assert all(c.columns == preview.columns for c in chunks), "read() and preview() must agree on the columns"
    whole = pl.concat(chunks, how="vertical_relaxed")
    assert whole.height >= preview.height, "read() must return at least the rows preview() shows"

    watermark = connector.new_watermark(whole)
    assert watermark is None or isinstance(watermark, str), "new_watermark() must return text or None"
    if watermark is not None:
        newer = list(connector.read(watermark=watermark, chunk_rows=2))
        assert sum(c.height for c in newer) == 0, "read(watermark=<latest>) must return no rows"
        assert connector.new_watermark(whole.lazy()) == watermark, "new_watermark() must accept a LazyFrame too"
