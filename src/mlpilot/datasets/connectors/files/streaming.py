"""Files larger than memory: CSV/TSV and JSON Lines streamed block by block into typed parts, Parquet row group
by row group, gzip expanded as a stream under the size caps."""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import itertools
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import polars as pl

from mlpilot.core.limits import CappedGzipReader
from mlpilot.datasets.connectors.base import ConnectorError, QuarantinedRow
from mlpilot.datasets.connectors.encoding import (
    KOREAN,
    _first_utf8_multibyte_line,
    decode_text,
    sniff_delimiter,
    sniff_header,
)
from mlpilot.datasets.connectors.files.parsing import (
    NULL_VALUES,
    PREVIEW_BYTES,
    FileParsing,
    _wider,
)
from mlpilot.datasets.connectors.formats import first_line as _first_line
from mlpilot.datasets.connectors.formats import format_of
from mlpilot.datasets.connectors.formats import is_blank as _blank

# Text files above this size are streamed (read block by block) instead of loaded whole.
STREAM_ABOVE_BYTES = 256 * 1024 * 1024
STREAM_BLOCK_BYTES = 4 * 1024 * 1024


class FileStreaming(FileParsing):
    """Streamed reads of the `file` connector."""

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
            options: dict[str, Any] = {"separator": delimiter, "has_header": True, "null_values": NULL_VALUES,
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

    def __init__(self, connector: FileStreaming, path: str, delimiter: str, header: bool, out: _PartWriter) -> None:
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


