"""The `file` connector: CSV/TSV, Parquet, Excel, JSON and JSON Lines from a path, folder, glob or fsspec URL.

Text files get encoding, delimiter and header detection; rows with the wrong number of fields are reported by
line number and either fail the read or are quarantined, per the connection's `on_bad_rows` policy. CSV/TSV files
larger than `stream_above_bytes` are streamed block by block so a file larger than memory can be ingested.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import itertools
import json
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import polars as pl

from mlpilot.core.allowlist import AllowList
from mlpilot.core.limits import CappedGzipReader, gunzip_capped
from mlpilot.datasets.connectors.base import BaseConnector, ConnectorError, QuarantinedRow
from mlpilot.datasets.connectors.encoding import (
    KOREAN,
    _first_utf8_multibyte_line,
    decode_text,
    sniff_delimiter,
    sniff_header,
)

FORMATS = ("auto", "csv", "tsv", "parquet", "xlsx", "json", "jsonl")
# Suffix → format; longest first so ".csv.gz" wins over ".gz".
SUFFIXES: tuple[tuple[str, str], ...] = (
    (".csv.gz", "csv"), (".tsv.gz", "tsv"), (".txt.gz", "csv"), (".jsonl.gz", "jsonl"), (".ndjson", "jsonl"),
    (".jsonl", "jsonl"), (".json", "json"), (".parquet", "parquet"), (".pq", "parquet"), (".xlsx", "xlsx"),
    (".csv", "csv"), (".tsv", "tsv"), (".txt", "csv"),
)
NULL_VALUES = ["", "NA", "N/A", "null", "NULL"]
PREVIEW_BYTES = 2 * 1024 * 1024
# Text files above this size are streamed (read block by block) instead of loaded whole.
STREAM_ABOVE_BYTES = 256 * 1024 * 1024
STREAM_BLOCK_BYTES = 4 * 1024 * 1024
INFER_ROWS = 10_000
GLOB_CHARS = "*?["


def format_of(path: str, configured: str = "auto") -> str | None:
    """Return the format of `path` (the configured one unless auto), or None when the suffix is unknown."""
    if configured != "auto":
        return configured
    lower = path.lower()
    for suffix, fmt in SUFFIXES:
        if lower.endswith(suffix):
            return fmt
    return None


class FileConnector(BaseConnector):
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
            raw_row = self.settings.get("header_row")
            self.header_row = 1 if raw_row in (None, "") else int(raw_row)
        except (TypeError, ValueError):
            raise ConnectorError(f"header_row must be a row number (1 = first row); "
                                 f"got {self.settings.get('header_row')!r}.") from None
        if self.header_row < 1:
            raise ConnectorError(f"header_row must be 1 or more; got {self.header_row}.")
        raw_stream = self.settings.get("stream_above_bytes")
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
            return fsspec.core.url_to_fs(self.path, **self.storage_options)
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

    # Streaming ------------------------------------------------------------------------------------------------

    def _streams(self, path: str) -> bool:
        """Whether `path` is a CSV/TSV or JSON Lines file too large to load whole (above `stream_above_bytes`)."""
        if format_of(path, self.format) not in ("csv", "tsv", "jsonl"):
            return False
        fs, inner = fsspec.core.url_to_fs(path, **self.storage_options)
        try:
            size = fs.size(inner)
        except FileNotFoundError:
            raise ConnectorError(f"{path} does not exist.") from None
        except OSError as exc:
            raise ConnectorError(f"Cannot read {path}: {exc}", transient=True) from None
        return size is not None and size > self.stream_above_bytes

    def _stream_csv(self, path: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
        """Yield an empty frame with the file's columns and types, then its rows in chunks of at most `chunk_rows`.

        One pass decodes the file block by block, checks every row's field count as the whole-file reader does
        (same messages, same quarantine) and writes the good rows to temporary UTF-8 part files of `chunk_rows`
        rows. Polars reads the parts twice, one at a time: first to infer each column's type over every row, then
        to yield them. Memory holds one block or one part, never the file.
        """
        with tempfile.TemporaryDirectory(prefix="mlpilot-stream-") as folder:
            parts = _PartWriter(Path(folder), chunk_rows)
            delimiter = self._transcode(path, parts)
            options = {"separator": delimiter, "has_header": True, "null_values": NULL_VALUES,
                       "try_parse_dates": False, "raise_if_empty": False}
            try:
                schema: dict[str, pl.DataType] = {}
                for part in parts.paths:
                    frame = pl.read_csv(part, infer_schema_length=None, **options)
                    for name, dtype in frame.schema.items():
                        seen = pl.Null() if frame[name].null_count() == frame.height else dtype
                        schema[name] = _wider(schema.get(name, pl.Null()), seen)
                schema = {name: pl.String() if dtype == pl.Null else dtype for name, dtype in schema.items()}
                yield pl.DataFrame(schema=schema)
                for part in parts.paths:
                    yield pl.read_csv(part, schema=schema, **options)
            except (pl.exceptions.PolarsError, ValueError) as exc:
                raise ConnectorError(f"{path} could not be parsed as CSV: {_first_line(exc)}") from None

    def _stream_jsonl(self, path: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
        """Yield an empty frame with the file's columns and types, then its rows in chunks of at most `chunk_rows`.

        One pass decodes the file block by block, checks every line is a JSON object as the whole-file reader
        does (same messages, same quarantine) and writes the good lines to temporary part files of `chunk_rows`
        lines; Polars reads the parts twice, one at a time: to infer the types over every row, then to yield them.
        """
        with tempfile.TemporaryDirectory(prefix="mlpilot-stream-") as folder:
            parts = self._split_jsonl(path, Path(folder), chunk_rows)
            try:
                schema: dict[str, pl.DataType] = {}
                for part in parts:
                    frame = pl.read_ndjson(part, infer_schema_length=None)
                    for name, dtype in frame.schema.items():
                        seen = pl.Null() if frame[name].null_count() == frame.height else dtype
                        schema[name] = _wider(schema.get(name, pl.Null()), seen)
                self.check_column_names(list(schema), source=path)
                yield pl.DataFrame(schema=schema)
                for part in parts:
                    yield pl.read_ndjson(part, schema=schema)
            except (pl.exceptions.PolarsError, ValueError) as exc:
                raise ConnectorError(f"{path} could not be read as JSON Lines: {_first_line(exc)}") from None

    def _split_jsonl(self, path: str, folder: Path, chunk_rows: int) -> list[Path]:
        """Copy the file's JSON-object lines to UTF-8 part files of at most `chunk_rows` lines; return them."""
        fs, inner = fsspec.core.url_to_fs(path, **self.storage_options)
        parts: list[Path] = []
        handle_out: Any = None
        in_part = number = good = 0
        try:
            with fs.open(inner, "rb") as handle:
                head = handle.read(min(PREVIEW_BYTES, self.stream_above_bytes))
                if _blank(head):
                    raise ConnectorError(f"The source is empty: {path} has no data.")
                sample = head[: head.rfind(b"\n") + 1] or head
                codec = decode_text(sample, source=path, encoding=self.encoding).encoding
                guessed = self.encoding.strip().lower() == "auto"
                blocks = _decoded_blocks(path, handle, head, codec, min(STREAM_BLOCK_BYTES, self.stream_above_bytes),
                                         guessed=guessed)
                for block in blocks:
                    for line in block.split("\n"):
                        number += 1
                        line = line.removesuffix("\r")
                        if not self._json_object_line(path, number, line):
                            continue
                        if handle_out is None or in_part >= chunk_rows:
                            if handle_out is not None:
                                handle_out.close()
                            parts.append(folder / f"part-{len(parts):06d}.jsonl")
                            handle_out, in_part = parts[-1].open("w", encoding="utf-8"), 0
                        handle_out.write(line + "\n")
                        in_part += 1
                        good += 1
                    number -= 1  # a block ends with a line break: its last, empty piece is the next block's start
        except FileNotFoundError:
            raise ConnectorError(f"{path} does not exist.") from None
        except OSError as exc:
            raise ConnectorError(f"Cannot read {path}: {exc}", transient=True) from None
        finally:
            if handle_out is not None:
                handle_out.close()
        if not good:
            raise ConnectorError(f"The source is empty: {path} has no JSON objects.")
        return parts

    def _stream_parquet(self, path: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
        """Yield an empty frame with the file's columns and types, then its rows in chunks of at most `chunk_rows`,
        read row group by row group (memory holds one chunk, never the file)."""
        import pyarrow.parquet as pq

        fs, inner = fsspec.core.url_to_fs(path, **self.storage_options)
        try:
            if not fs.size(inner):
                raise ConnectorError(f"The source is empty: {path} has no data.")
            with fs.open(inner, "rb") as handle:
                try:
                    parquet = pq.ParquetFile(handle)
                except Exception as exc:  # arrow raises several unrelated types for corrupt files
                    raise ConnectorError(f"{path} is not a valid Parquet file: {_first_line(exc)}") from None
                empty = pl.from_arrow(parquet.schema_arrow.empty_table())
                assert isinstance(empty, pl.DataFrame)
                self.check_column_names(empty.columns, source=path)
                if empty.width == 0:
                    raise ConnectorError(f"The source is empty: {path} has no columns.")
                if parquet.metadata.num_rows == 0:
                    raise ConnectorError(f"The source is empty: {path} has a header but no data rows.")
                yield empty
                for batch in parquet.iter_batches(batch_size=chunk_rows):
                    chunk = pl.from_arrow(batch)
                    assert isinstance(chunk, pl.DataFrame)
                    yield chunk
        except FileNotFoundError:
            raise ConnectorError(f"{path} does not exist.") from None
        except OSError as exc:
            raise ConnectorError(f"Cannot read {path}: {exc}", transient=True) from None

    def _transcode(self, path: str, out: _PartWriter) -> str:
        """Copy the file's well-formed rows to `out` as UTF-8, each part with the header row; return the delimiter.

        Encoding, delimiter and header are detected from the first PREVIEW_BYTES only; neither that sample nor a
        block read later is larger than `stream_above_bytes`.
        """
        fs, inner = fsspec.core.url_to_fs(path, **self.storage_options)
        fmt = format_of(path, self.format)
        try:
            with fs.open(inner, "rb") as raw, self._decompressed(raw, path) as handle:
                head = handle.read(min(PREVIEW_BYTES, self.stream_above_bytes))
                if _blank(head):
                    raise ConnectorError(f"The source is empty: {path} has no data.")
                sample = head[: head.rfind(b"\n") + 1] or head
                decoded = decode_text(sample, source=path, encoding=self.encoding)
                if self.delimiter != "auto":
                    delimiter = self.delimiter
                else:
                    delimiter = "\t" if fmt == "tsv" else sniff_delimiter(decoded.text, source=path)
                header = self.header if self.header is not None else sniff_header(decoded.text, delimiter)
                block_bytes = min(STREAM_BLOCK_BYTES, self.stream_above_bytes)
                guessed = self.encoding.strip().lower() == "auto"
                blocks = _decoded_blocks(path, handle, head, decoded.encoding, block_bytes, guessed=guessed)
                try:
                    _RowCopier(self, path, delimiter, header, out).copy(blocks)
                finally:
                    out.close()
        except FileNotFoundError:
            raise ConnectorError(f"{path} does not exist.") from None
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise ConnectorError(f"{path} is not a valid gzip file: {exc}.") from None
        except OSError as exc:
            raise ConnectorError(f"Cannot read {path}: {exc}", transient=True) from None
        return delimiter

    def _decompressed(self, raw: Any, path: str) -> Any:
        """The file's bytes as a stream: gzip expanded under the size and ratio caps, anything else as is."""
        if not path.lower().endswith(".gz"):
            return contextlib.nullcontext(raw)
        reader = CappedGzipReader(raw, limit=self.limits.decompressed_bytes, ratio=self.limits.ratio, what=path)
        return io.BufferedReader(reader, 1 << 20)

    def _read_bytes(self, path: str, *, head: bool = False) -> bytes:
        fs, inner = fsspec.core.url_to_fs(path, **self.storage_options)
        try:
            with fs.open(inner, "rb") as handle:
                if head and format_of(path, self.format) in ("csv", "tsv", "jsonl") and not path.endswith(".gz"):
                    data = handle.read(PREVIEW_BYTES + 1)
                    if len(data) > PREVIEW_BYTES:
                        data = data[: data.rfind(b"\n") + 1] or data[:PREVIEW_BYTES]
                    return data
                return handle.read()
        except FileNotFoundError:
            raise ConnectorError(f"{path} does not exist.") from None
        except OSError as exc:
            raise ConnectorError(f"Cannot read {path}: {exc}", transient=True) from None

    def _frame(self, path: str, data: bytes, *, limit: int | None = None) -> pl.DataFrame:
        fmt = format_of(path, self.format)
        if fmt is None:
            raise ConnectorError(f"{path}: unknown file type; set format to csv, tsv, parquet, xlsx, json or jsonl.")
        if path.lower().endswith(".gz"):
            try:
                data = gunzip_capped(data, limit=self.limits.decompressed_bytes, ratio=self.limits.ratio, what=path)
            except (OSError, EOFError, zlib.error) as exc:
                raise ConnectorError(f"{path} is not a valid gzip file: {exc}.") from None
        if _blank(data):
            raise ConnectorError(f"The source is empty: {path} has no data.")
        if fmt in ("csv", "tsv"):
            frame = self._csv(path, data, fmt, limit)
        elif fmt == "parquet":
            frame = _parquet(path, data)
        elif fmt == "xlsx":
            frame = self._excel(path, data)
        elif fmt == "json":
            frame = _json(path, data)
        else:
            frame = self._jsonl(path, data, limit)
        self.check_column_names(frame.columns, source=path)
        if frame.width == 0:
            raise ConnectorError(f"The source is empty: {path} has no columns.")
        if frame.height == 0:
            raise ConnectorError(f"The source is empty: {path} has a header but no data rows.")
        return frame

    # Formats ----------------------------------------------------------------------------------------------

    def _csv(self, path: str, data: bytes, fmt: str, limit: int | None) -> pl.DataFrame:
        text = decode_text(data, source=path, encoding=self.encoding).text
        if _blank(text):
            raise ConnectorError(f"The source is empty: {path} has no data.")
        if self.delimiter != "auto":
            delimiter = self.delimiter
        else:
            delimiter = "\t" if fmt == "tsv" else sniff_delimiter(text, source=path)
        header = self.header if self.header is not None else sniff_header(text, delimiter)
        if limit is None:
            if '"' not in text:
                return self._csv_unquoted(path, text, delimiter, header)
            return self._csv_quoted(path, text, delimiter, header)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        try:
            first = next(row for row in reader if row)
        except StopIteration:
            raise ConnectorError(f"The source is empty: {path} has no data.") from None
        except csv.Error as exc:
            raise ConnectorError(f"{path} line 1 cannot be read as CSV: {exc}.") from None
        names = first if header else [f"column_{i}" for i in range(1, len(first) + 1)]
        self.check_column_names(names, source=path)
        expected = len(first)
        good: list[list[str]] = [] if header else [first]
        bad = 0
        try:
            previous_end = reader.line_num
            for row in reader:
                line = previous_end + 1
                previous_end = reader.line_num
                if not row:
                    continue
                if len(row) != expected:
                    reason = f"expected {expected} fields (like the header) but found {len(row)}"
                    if self.on_bad_rows == "fail":
                        raise ConnectorError(f"{path} line {line}: {reason}. Fix the file or set "
                                             "on_bad_rows=quarantine to set such rows aside.")
                    self.quarantined.append(QuarantinedRow(path, line, delimiter.join(row), reason))
                    bad += 1
                    continue
                good.append(row)
                if limit is not None and len(good) >= limit:
                    break
        except csv.Error as exc:
            raise ConnectorError(f"{path} line {reader.line_num}: cannot be read as CSV: {exc}.") from None
        if not good:
            if bad:
                raise ConnectorError(f"{path}: every data row is malformed ({bad} quarantined); nothing to read.")
            raise ConnectorError(f"The source is empty: {path} has a header but no data rows.")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(good)
        return _read_csv(path, buffer.getvalue().encode("utf-8"))

    def _csv_quoted(self, path: str, text: str, delimiter: str, header: bool) -> pl.DataFrame:
        """Check a file with quotes (a field may hold delimiters and line breaks) record by record with the csv
        module, keeping no rows in Python: Polars then parses the original text, minus the lines of the malformed
        records (several times faster than re-writing every row)."""
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        names: list[str] | None = None
        expected = good = bad = 0
        dropped: list[tuple[int, int]] = []  # first and last line (1-based) of each malformed record or blank line
        previous_end = 0
        try:
            for row in reader:
                line = previous_end + 1
                previous_end = reader.line_num
                if not row:
                    dropped.append((line, previous_end))  # a blank line (Polars would read a row of nulls)
                    continue
                if names is None:
                    names = row if header else [f"column_{i}" for i in range(1, len(row) + 1)]
                    self.check_column_names(names, source=path)
                    expected = len(row)
                    good += 0 if header else 1
                    continue
                if len(row) == expected:
                    good += 1
                    continue
                reason = f"expected {expected} fields (like the header) but found {len(row)}"
                if self.on_bad_rows == "fail":
                    raise ConnectorError(f"{path} line {line}: {reason}. Fix the file or set "
                                         "on_bad_rows=quarantine to set such rows aside.")
                self.quarantined.append(QuarantinedRow(path, line, delimiter.join(row), reason))
                dropped.append((line, previous_end))
                bad += 1
        except csv.Error as exc:
            raise ConnectorError(f"{path} line {reader.line_num}: cannot be read as CSV: {exc}.") from None
        if names is None:
            raise ConnectorError(f"The source is empty: {path} has no data.")
        if not good:
            if bad:
                raise ConnectorError(f"{path}: every data row is malformed ({bad} quarantined); nothing to read.")
            raise ConnectorError(f"The source is empty: {path} has a header but no data rows.")
        if dropped:
            # The csv module numbers lines as StringIO(newline="") splits them, so the same split finds them.
            lines = io.StringIO(text, newline="").readlines()
            for first, last in reversed(dropped):
                del lines[first - 1:last]
            text = "".join(lines)
        return _read_csv(path, text.encode("utf-8"), has_header=header, new_columns=names, separator=delimiter)

    def _csv_unquoted(self, path: str, text: str, delimiter: str, header: bool) -> pl.DataFrame:
        """Check and read a file without quotes: one line is one row, so fields are counted per line in Polars
        (no Python loop over rows) and the good lines go to the CSV reader as they are."""
        lines = pl.Series("line", [text]).str.split("\n").explode().str.strip_suffix("\r")
        table = pl.DataFrame({"line": lines}).with_row_index("number", offset=1)
        table = table.filter(pl.col("line").str.strip_chars().str.len_bytes() > 0)
        if table.height == 0:
            raise ConnectorError(f"The source is empty: {path} has no data.")
        fields = pl.col("line").str.count_matches(delimiter, literal=True) + 1
        table = table.with_columns(fields.alias("fields"))
        first = table.row(0, named=True)
        names = first["line"].split(delimiter) if header else [f"column_{i}" for i in range(1, first["fields"] + 1)]
        self.check_column_names(names, source=path)
        body = table.slice(1) if header else table
        expected = first["fields"]
        bad = body.filter(pl.col("fields") != expected)
        if bad.height:
            if self.on_bad_rows == "fail":
                row = bad.row(0, named=True)
                raise ConnectorError(f"{path} line {row['number']}: expected {expected} fields (like the header) "
                                     f"but found {row['fields']}. Fix the file or set on_bad_rows=quarantine to set "
                                     "such rows aside.")
            self.quarantined.extend(
                QuarantinedRow(path, number, line, f"expected {expected} fields (like the header) but found {count}")
                for number, line, count in bad.select("number", "line", "fields").iter_rows())
            body = body.filter(pl.col("fields") == expected)
        if body.height == 0:
            if bad.height:
                raise ConnectorError(f"{path}: every data row is malformed ({bad.height} quarantined); "
                                     "nothing to read.")
            raise ConnectorError(f"The source is empty: {path} has a header but no data rows.")
        # Rebuilt from the kept lines (no header, blank or malformed lines, carriage returns), written by Polars
        # straight to bytes: unquoted, so each line goes out exactly as it came in.
        buffer = io.BytesIO()
        body.select("line").write_csv(buffer, include_header=False, quote_style="never")
        source = buffer.getvalue()
        return _read_csv(path, source, has_header=False, new_columns=names, separator=delimiter, quote_char=None)

    def _excel(self, path: str, data: bytes) -> pl.DataFrame:
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError for files that are not xlsx
            raise ConnectorError(f"{path} is not a valid .xlsx workbook: {_first_line(exc)}") from None
        try:
            sheets = book.sheetnames
            sheet = self.sheet
            if sheet in (None, ""):
                sheet_name = sheets[0]
            elif str(sheet).isdigit() and str(sheet) not in sheets:
                number = int(sheet)
                if not 1 <= number <= len(sheets):
                    raise ConnectorError(f"{path} has {len(sheets)} sheet(s); sheet {number} does not exist.")
                sheet_name = sheets[number - 1]
            elif str(sheet) in sheets:
                sheet_name = str(sheet)
            else:
                raise ConnectorError(f"{path} has no sheet named {sheet!r}; sheets are {', '.join(sheets)}.")
            rows = book[sheet_name].iter_rows(min_row=self.header_row, max_row=self.header_row, values_only=True)
            header = next(rows, None)
        finally:
            book.close()
        if header is None:
            raise ConnectorError(f"The source is empty: sheet {sheet_name!r} of {path} has no row "
                                 f"{self.header_row}.")
        names = ["" if v is None else str(v) for v in header]
        while names and not names[-1]:
            names.pop()  # trailing empty cells are formatting, not columns
        if not names:
            raise ConnectorError(f"{path} sheet {sheet_name!r} row {self.header_row} is empty; set header_row to the "
                                 "row that holds the column names.")
        self.check_column_names(names, source=f"{path} sheet {sheet_name!r} row {self.header_row}")
        try:
            frame = pl.read_excel(io.BytesIO(data), sheet_name=sheet_name, engine="calamine",
                                  read_options={"header_row": self.header_row - 1})
        except Exception as exc:  # fastexcel raises its own hierarchy
            raise ConnectorError(f"{path} sheet {sheet_name!r} cannot be read: {_first_line(exc)}") from None
        return frame.select(frame.columns[: len(names)])

    def _json_object_line(self, path: str, number: int, line: str) -> bool:
        """Whether a JSON Lines line is a row: blank lines are skipped, a line that is not a JSON object fails the
        read or is quarantined (on_bad_rows)."""
        if not line.strip():
            return False
        try:
            value = json.loads(line)
            if not isinstance(value, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            reason = f"not a JSON object: {exc}"
            if self.on_bad_rows == "fail":
                raise ConnectorError(f"{path} line {number}: {reason}. Fix the file or set "
                                     "on_bad_rows=quarantine to set such rows aside.") from None
            self.quarantined.append(QuarantinedRow(path, number, line[:10_000], reason))
            return False
        return True

    def _jsonl(self, path: str, data: bytes, limit: int | None) -> pl.DataFrame:
        text = decode_text(data, source=path, encoding=self.encoding).text
        good: list[str] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not self._json_object_line(path, number, line):
                continue
            good.append(line)
            if limit is not None and len(good) >= limit:
                break
        if not good:
            raise ConnectorError(f"The source is empty: {path} has no JSON objects.")
        try:
            return pl.read_ndjson(io.BytesIO("\n".join(good).encode("utf-8")), infer_schema_length=None)
        except (pl.exceptions.PolarsError, ValueError) as exc:
            raise ConnectorError(f"{path} could not be read as JSON Lines: {_first_line(exc)}") from None


def _decoded_blocks(path: str, handle: Any, head: bytes, codec: str, block_bytes: int, *,
                    guessed: bool = False) -> Iterator[str]:
    """Yield the file's text in blocks that end at a line break (the last one may not).

    The incremental decoder keeps a multi-byte character split between two reads whole. A `guessed` UTF-8 whose
    text was plain ASCII so far turns into CP949 at the first byte that is not UTF-8, as the whole-file detection
    would have chosen; a block mixing UTF-8 and other bytes is refused.
    """
    decoder = codecs.getincrementaldecoder(codec)()
    may_switch = guessed and codec == "utf-8"
    pending = ""
    newlines = 0
    data = head
    first = True
    while True:
        final = not data
        try:
            try:
                text = decoder.decode(data, final=final)
            except UnicodeDecodeError:
                if not may_switch or _first_utf8_multibyte_line(data) is not None:
                    raise
                codec, decoder = KOREAN, codecs.getincrementaldecoder(KOREAN)()
                text = decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            line = newlines + pending.count("\n") + data.count(b"\n", 0, max(0, exc.start)) + 1
            raise ConnectorError(f"{path} line {line}: bytes are not valid {codec} (the encoding was detected from "
                                 "the start of the file); re-export the whole file in one encoding or set the "
                                 "encoding explicitly.") from None
        may_switch = may_switch and codec == "utf-8" and data.isascii()
        if first:
            text, first = text.removeprefix("\ufeff"), False
        text = pending + text
        cut = len(text) if final else text.rfind("\n") + 1
        pending = text[cut:]
        if cut:
            newlines += text.count("\n", 0, cut)
            yield text[:cut]
        if final:
            return
        data = handle.read(block_bytes)


class _RowCopier:
    """Checks streamed rows against the header's field count and writes the good ones, one block at a time.

    Blocks without quotes are checked in Polars, a line per row; from the first quote on, the csv module reads the
    rest so a quoted field may hold delimiters and line breaks. Line numbers are exact in both.
    """

    def __init__(self, connector: FileConnector, path: str, delimiter: str, header: bool, out: _PartWriter) -> None:
        self.connector, self.path, self.delimiter, self.header = connector, path, delimiter, header
        self.out = out
        self.expected: int | None = None
        self.lines = 0
        self.good = 0
        self.bad = 0

    def copy(self, blocks: Iterator[str]) -> None:
        for block in blocks:
            if '"' in block:
                rest = (line for later in blocks for line in io.StringIO(later, newline=""))
                self._copy_quoted(itertools.chain(io.StringIO(block, newline=""), rest))
                break
            self._copy_unquoted(block)
        if self.expected is None:
            raise ConnectorError(f"The source is empty: {self.path} has no data.")
        if not self.good:
            if self.bad:
                raise ConnectorError(f"{self.path}: every data row is malformed ({self.bad} quarantined); "
                                     "nothing to read.")
            raise ConnectorError(f"The source is empty: {self.path} has a header but no data rows.")

    def _start(self, first: list[str]) -> bool:
        """Take the first row as the header (or name the columns); return whether it is data."""
        names = first if self.header else [f"column_{i}" for i in range(1, len(first) + 1)]
        self.connector.check_column_names(names, source=self.path)
        self.expected = len(first)
        self.out.start(names, self.delimiter)
        return not self.header

    def _reject(self, line: int, raw: str, found: int) -> None:
        reason = f"expected {self.expected} fields (like the header) but found {found}"
        if self.connector.on_bad_rows == "fail":
            raise ConnectorError(f"{self.path} line {line}: {reason}. Fix the file or set on_bad_rows=quarantine "
                                 "to set such rows aside.")
        self.connector.quarantined.append(QuarantinedRow(self.path, line, raw, reason))
        self.bad += 1

    def _copy_unquoted(self, block: str) -> None:
        lines = pl.Series("line", [block]).str.split("\n").explode().str.strip_suffix("\r")
        table = pl.DataFrame({"line": lines}).with_row_index("number", offset=self.lines + 1)
        self.lines += block.count("\n")
        table = table.filter(pl.col("line").str.strip_chars().str.len_bytes() > 0)
        if table.height == 0:
            return
        fields = pl.col("line").str.count_matches(self.delimiter, literal=True) + 1
        table = table.with_columns(fields.alias("fields"))
        if self.expected is None:
            first = table.row(0)[1]
            if not self._start(first.split(self.delimiter)):
                table = table.slice(1)
        bad = table.filter(pl.col("fields") != self.expected)
        for number, line, count in bad.iter_rows():
            self._reject(number, line, count)
        good = table.filter(pl.col("fields") == self.expected)["line"]
        if good.len():
            self.out.write_lines(good.to_list())
            self.good += good.len()

    def _copy_quoted(self, lines: Iterator[str]) -> None:
        reader = csv.reader(lines, delimiter=self.delimiter, strict=False)
        base = self.lines
        previous_end = 0
        try:
            for row in reader:
                line = base + previous_end + 1
                previous_end = reader.line_num
                if not row:
                    continue
                if self.expected is None:
                    if not self._start(row):
                        continue
                if len(row) != self.expected:
                    self._reject(line, self.delimiter.join(row), len(row))
                    continue
                self.out.write_row(row)
                self.good += 1
        except csv.Error as exc:
            raise ConnectorError(f"{self.path} line {base + reader.line_num}: cannot be read as CSV: {exc}.") \
                from None


class _PartWriter:
    """Writes rows to numbered UTF-8 CSV files of at most `rows_per_part` rows, each opening with the header."""

    def __init__(self, folder: Path, rows_per_part: int) -> None:
        self.folder, self.rows_per_part = folder, rows_per_part
        self.paths: list[Path] = []
        self.header: list[str] = []
        self.delimiter = ","
        self.handle: Any = None
        self.writer: Any = None
        self.rows = 0

    def start(self, names: list[str], delimiter: str) -> None:
        self.header, self.delimiter = names, delimiter

    def _room(self) -> int:
        """Rows the current part still takes, opening the next part when it is full."""
        if self.handle is None or self.rows >= self.rows_per_part:
            self.close()
            path = self.folder / f"part-{len(self.paths):06d}.csv"
            self.handle = path.open("w", encoding="utf-8", newline="")
            self.writer = csv.writer(self.handle, delimiter=self.delimiter, lineterminator="\n")
            self.writer.writerow(self.header)
            self.paths.append(path)
            self.rows = 0
        return self.rows_per_part - self.rows

    def write_lines(self, lines: list[str]) -> None:
        """Write raw lines (already in the output delimiter, without quotes)."""
        done = 0
        while done < len(lines):
            take = min(self._room(), len(lines) - done)
            self.handle.write("\n".join(lines[done:done + take]) + "\n")
            self.rows += take
            done += take

    def write_row(self, row: list[str]) -> None:
        self._room()
        self.writer.writerow(row)
        self.rows += 1

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _wider(a: pl.DataType, b: pl.DataType) -> pl.DataType:
    """The type Polars' CSV inference gives a column holding values of both types (integers and floats make
    floats; any other mix makes text)."""
    if a == b or b == pl.Null:
        return a
    if a == pl.Null:
        return b
    if a.is_numeric() and b.is_numeric():
        return pl.Float64() if a.is_float() or b.is_float() else pl.Int64()
    return pl.String()


def _blank(data: bytes | str) -> bool:
    """Whether the content is only whitespace (looking at the whole of it only when its start is blank)."""
    return not data[:4096].strip() and not data.strip()


def _read_csv(path: str, data: bytes, **options: Any) -> pl.DataFrame:
    """Parse checked CSV bytes; types come from the first rows, or from all rows when a later value disagrees."""
    common = {"null_values": NULL_VALUES, "raise_if_empty": False, "try_parse_dates": False, **options}
    try:
        try:
            return pl.read_csv(io.BytesIO(data), infer_schema_length=INFER_ROWS, **common)
        except pl.exceptions.ComputeError:
            # Inferring from every row is several times slower, so only a file that needs it pays for it.
            return pl.read_csv(io.BytesIO(data), infer_schema_length=None, **common)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise ConnectorError(f"{path} could not be parsed as CSV: {_first_line(exc)}") from None


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConnectorError(f"{name} must be auto, true or false; got {value!r}.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _parquet(path: str, data: bytes) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars/arrow raise several unrelated types for corrupt files
        raise ConnectorError(f"{path} is not a valid Parquet file: {_first_line(exc)}") from None


def _json(path: str, data: bytes) -> pl.DataFrame:
    text = decode_text(data, source=path).text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConnectorError(f"{path} line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}.") from None
    if isinstance(value, dict):
        # A single object whose one list value holds the records ({"data": [...]}) is common in exports.
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConnectorError(f"{path}: expected a JSON array of objects (one object per row).")
    if not value:
        raise ConnectorError(f"The source is empty: {path} holds an empty array.")
    try:
        return pl.from_dicts(value, infer_schema_length=None)
    except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
        raise ConnectorError(f"{path} could not be read as a table: {_first_line(exc)}") from None
