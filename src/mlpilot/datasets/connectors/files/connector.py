"""The `file` connector: CSV/TSV, Parquet, Excel, JSON and JSON Lines from a path, folder, glob or fsspec URL.

Text files get encoding, delimiter and header detection; rows with the wrong number of fields are reported by
line number and either fail the read or are quarantined, per the connection's `on_bad_rows` policy. CSV/TSV files
larger than `stream_above_bytes` are streamed block by block so a file larger than memory can be ingested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import fsspec
import polars as pl

from mlpilot.core.allowlist import AllowList
from mlpilot.datasets.connectors.base import ConnectorError
from mlpilot.datasets.connectors.files.parsing import FORMATS, _as_bool
from mlpilot.datasets.connectors.files.streaming import STREAM_ABOVE_BYTES, FileStreaming
from mlpilot.datasets.connectors.formats import format_of

GLOB_CHARS = "*?["


class FileConnector(FileStreaming):
    """Files on the local disk or any fsspec filesystem.

    Settings: `path` (file, folder, glob or URL such as s3://bucket/exports/*.csv), `format` (auto, csv, tsv,
    parquet, xlsx, json, jsonl), `encoding` (auto, utf-8, utf-8-sig, cp949…), `delimiter` (auto or a character),
    `header` (auto, true, false), `sheet` (Excel sheet name or 1-based number), `header_row` (1-based row of the
    header in Excel sheets), `stream_above_bytes` (CSV/TSV and JSON Lines files larger than this are streamed;
    default 256 MiB; Parquet files are always read row group by row group).
    Secret: `storage_options` (fsspec credentials such as keys or tokens).
    """

    kind: ClassVar[str] = "file"
    secret_fields: ClassVar[tuple[str, ...]] = ("storage_options",)
    known_settings: ClassVar[tuple[str, ...]] = ("path", "format", "encoding", "delimiter", "header", "sheet",
                                                 "header_row", "stream_above_bytes")

    def __init__(self, settings: dict[str, Any], secrets: dict[str, Any]) -> None:
        super().__init__(settings, secrets)
        self.path = str(self.settings.get("path") or "").strip()
        if not self.path:
            raise ConnectorError("A file connection needs a path: a file, a folder, a glob or an fsspec URL.")
        self.format = str(self.settings.get("format") or "auto").lower()
        if self.format not in FORMATS:
            raise ConnectorError(f"format must be one of {', '.join(FORMATS)}; got {self.format!r}.")
        self.encoding = str(self.settings.get("encoding") or "auto")
        self.delimiter = self.settings.get("delimiter") or "auto"
        if self.delimiter != "auto":
            self.delimiter = {"\\t": "\t", "tab": "\t"}.get(self.delimiter, self.delimiter)
            if len(self.delimiter) != 1:
                raise ConnectorError(f"delimiter must be one character or auto; got {self.delimiter!r}.")
        header = self.settings.get("header", "auto")
        self.header: bool | None = None if header in (None, "", "auto") else _as_bool(header, "header")
        self.sheet = self.settings.get("sheet")
        try:
            raw_row: Any = self.settings.get("header_row")
            self.header_row = 1 if raw_row in (None, "") else int(raw_row)
        except (TypeError, ValueError):
            raise ConnectorError(f"header_row must be a row number (1 = first row); "
                                 f"got {self.settings.get('header_row')!r}.") from None
        if self.header_row < 1:
            raise ConnectorError(f"header_row must be 1 or more; got {self.header_row}.")
        raw_stream: Any = self.settings.get("stream_above_bytes")
        try:
            self.stream_above_bytes = STREAM_ABOVE_BYTES if raw_stream in (None, "") else int(raw_stream)
        except (TypeError, ValueError):
            raise ConnectorError(f"stream_above_bytes must be a number of bytes; got {raw_stream!r}.") from None
        if self.stream_above_bytes < 1:
            raise ConnectorError(f"stream_above_bytes must be 1 or more; got {self.stream_above_bytes}.")
        options = self.secrets.get("storage_options") or {}
        if isinstance(options, str):
            try:
                options = json.loads(options) if options.strip() else {}
            except json.JSONDecodeError:
                raise ConnectorError("storage_options must be a JSON object of fsspec options.") from None
        if not isinstance(options, dict):
            raise ConnectorError("storage_options must be a JSON object of fsspec options.")
        self.storage_options: dict[str, Any] = options

    def check_allowed(self, guard: AllowList) -> None:
        """Refuse a path outside the allowed roots, inside the server's own files, chained or of another protocol."""
        super().check_allowed(guard)
        guard.location(self.path, field_name="path")

    # Protocol ---------------------------------------------------------------------------------------------

    def test(self) -> str:
        """Check the files exist and the first one parses; return what was found."""
        files = self.list_files()
        head = self._frame(files[0], self._read_bytes(files[0], head=True), limit=5)
        return (f"{len(files)} file(s) found; {files[0]} has {head.width} column(s): "
                f"{', '.join(head.columns[:20])}{'…' if head.width > 20 else ''}.")

    def preview(self, limit: int = 20) -> pl.DataFrame:
        """Return the first `limit` rows of the first file."""
        files = self.list_files()
        return self._frame(files[0], self._read_bytes(files[0], head=True), limit=limit).head(limit)

    def read(self, *, watermark: str | None = None, chunk_rows: int = 100_000) -> Iterator[pl.DataFrame]:
        """Yield every file's rows in chunks of at most `chunk_rows`, newer than the watermark if one is set."""
        self.quarantined = []
        columns: list[str] | None = None
        first_file = ""
        chunk_rows = max(1, chunk_rows)
        for path in self.list_files():
            if self._streams(path):
                streamed = (self._stream_jsonl(path, chunk_rows) if format_of(path, self.format) == "jsonl"
                            else self._stream_csv(path, chunk_rows))
                names = next(streamed).columns  # the first item is the empty frame of the file's schema
                first_file = self._check_columns(path, names, columns, first_file)
                columns = columns or names
                for chunk in streamed:
                    yield self.filter_newer(chunk, watermark, source=path)
                continue
            if format_of(path, self.format) == "parquet" and not path.lower().endswith(".gz"):
                batches = self._stream_parquet(path, chunk_rows)
                names = next(batches).columns  # the first item is the empty frame of the file's schema
                first_file = self._check_columns(path, names, columns, first_file)
                columns = columns or names
                for chunk in batches:
                    yield self.filter_newer(chunk, watermark, source=path)
                continue
            frame = self._frame(path, self._read_bytes(path))
            first_file = self._check_columns(path, frame.columns, columns, first_file)
            columns = columns or frame.columns
            frame = self.filter_newer(frame, watermark, source=path)
            for offset in range(0, frame.height, chunk_rows):
                yield frame.slice(offset, chunk_rows)

    @staticmethod
    def _check_columns(path: str, names: list[str], columns: list[str] | None, first_file: str) -> str:
        """Return the file whose columns every later file must match (this one when it is the first)."""
        if columns is None:
            return path
        if names != columns:
            missing = [c for c in columns if c not in names]
            extra = [c for c in names if c not in columns]
            raise ConnectorError(
                f"{path} does not have the columns of {first_file}: "
                f"missing {', '.join(missing) or 'none'}; unexpected {', '.join(extra) or 'none'} "
                "(all files of one connection must share their columns, in the same order)."
            )
        return first_file

    # Files ------------------------------------------------------------------------------------------------

    def _fs(self) -> tuple[Any, str]:
        if self.guard is not None:  # again at every open: the file system may have changed since creation
            self.guard.location(self.path, field_name="path")
        try:
            fs, inner = fsspec.core.url_to_fs(self.path, **self.storage_options)
            return fs, str(inner)
        except (ImportError, ValueError, TypeError) as exc:
            raise ConnectorError(f"Cannot open {self.path!r}: {exc}") from None

    def list_files(self) -> list[str]:
        """Return the files the path names (a folder's readable files, a glob's matches, or the one file)."""
        fs, root = self._fs()
        protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
        local = protocol in ("file", "local")
        try:
            if any(ch in root for ch in GLOB_CHARS):
                found = [p for p in fs.glob(root) if not fs.isdir(p)]
                where = f"no file matches {self.path!r}"
            elif fs.isdir(root):
                found = [p for p in fs.find(root) if format_of(p, self.format) is not None]
                where = f"the folder {self.path!r} holds no readable file (csv, tsv, parquet, xlsx, json, jsonl)"
            elif fs.exists(root):
                found = [root]
                where = ""
            else:
                raise ConnectorError(f"{self.path!r} does not exist.")
        except OSError as exc:
            raise ConnectorError(f"Cannot list {self.path!r}: {exc}", transient=True) from None
        if not found:
            raise ConnectorError(f"The source is empty: {where}.")
        found = sorted(found)
        if local and self.guard is not None:
            # A folder or glob can reach a symlink that leads out of the allowed roots, or the server's own files.
            for path in found:
                self.guard.local_path(path, field_name="path")
        if protocol not in ("file", "local") and "://" in self.path:
            found = [p if "://" in p else f"{protocol}://{p.lstrip('/') if protocol != 'memory' else p}"
                     for p in found]
        return found

