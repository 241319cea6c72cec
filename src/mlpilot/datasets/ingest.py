"""Turning uploaded bytes into a validated Polars frame: format by name (`connectors.formats`, which also reads
Parquet, Excel and JSON), a fast strict UTF-8 CSV check with dialect sniffing, and errors that name the file, line
and column. Pure: no database, no storage.
"""

from __future__ import annotations

import codecs
import csv
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from mlpilot.core.errors import N_, InvalidInput
from mlpilot.core.limits import DEFAULT_LIMITS, SizeLimits, gunzip_capped
from mlpilot.datasets.connectors import formats
from mlpilot.datasets.connectors.encoding import decode_text, sniff_delimiter
from mlpilot.datasets.connectors.formats import detect_format

NULL_VALUES = ["NA", "N/A", "null", "NULL"]
BOM = b"\xef\xbb\xbf"
INFER_ROWS = 10_000
FAST_CHECK_BLOCK = 4 * 2**20
DECODE_BLOCK = 16 * 2**20
SNIFF_BYTES = 65536


@dataclass(frozen=True)
class ParsedUpload:
    """A validated upload: the frame plus what the version row records about its source."""

    frame: pl.DataFrame
    source_format: str
    delimiter: str | None
    encoding: str | None = None


def parse_upload(filename: str, data: bytes, *, limits: SizeLimits = DEFAULT_LIMITS) -> ParsedUpload:
    """Parse and validate an uploaded file; raise InvalidInput naming the problem."""
    fmt, compressed = detect_format(filename)
    if not data:
        raise InvalidInput.translatable(N_("The uploaded file %(file)s is empty."), file=repr(filename))
    if compressed:
        try:
            data = gunzip_capped(data, limit=limits.decompressed_bytes, ratio=limits.ratio, what=repr(filename))
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInput.translatable(N_("%(file)s is not a valid gzip file: %(reason)s."),
                                            file=repr(filename), reason=str(exc)) from None
        if not data:
            raise InvalidInput.translatable(N_("The uploaded file %(file)s is empty once decompressed."),
                                            file=repr(filename))
    delimiter: str | None = None
    encoding: str | None = None
    if fmt == "parquet":
        frame = formats.read_parquet(repr(filename), data)
    elif fmt == "xlsx":
        # The header row's names are checked as written: the cell reader would rename a duplicate.
        frame = formats.read_excel(repr(filename), data, check_names=lambda names, _: _check_names(filename, names))
    elif fmt == "json":
        frame = formats.read_json(repr(filename), data)
    elif fmt == "jsonl":
        frame = formats.read_json_lines(repr(filename), data)
    else:
        frame, delimiter, encoding = _parse_text(filename, fmt, data)
    if fmt not in ("csv", "tsv"):
        _check_names(filename, frame.columns)
    if frame.height == 0:
        raise InvalidInput.translatable(N_("%(file)s has a header but no data rows; upload at least one row."),
                                        file=repr(filename))
    if frame.width == 0:
        raise InvalidInput.translatable(N_("%(file)s has no columns."), file=repr(filename))
    return ParsedUpload(frame=frame, source_format=fmt, delimiter=delimiter, encoding=encoding)


class _NotUtf8(Exception):
    """The bytes are not UTF-8: the upload goes on with the encoding detector that connections use."""


def _parse_text(filename: str, fmt: str, data: bytes) -> tuple[pl.DataFrame, str, str]:
    """Read CSV/TSV bytes as UTF-8 (the fast path), else as the detector's encoding (CP949/EUC-KR, like Korean
    Excel writes); return the frame, the delimiter and the encoding as the user would name it."""
    encoding = "utf-8-sig" if data.startswith(BOM) else "utf-8"
    try:
        frame, delimiter = _parse_utf8(filename, fmt, data.removeprefix(BOM))
    except _NotUtf8:
        # One detector for uploads and connections; it names the offset when the file is neither UTF-8 nor CP949.
        decoded = decode_text(data, source=repr(filename), guess=False)
        frame, delimiter = _parse_utf8(filename, fmt, decoded.text.encode("utf-8"))
        encoding = decoded.encoding
    return frame, delimiter, encoding


def _parse_utf8(filename: str, fmt: str, data: bytes) -> tuple[pl.DataFrame, str]:
    head = _check_text(filename, data, limit=SNIFF_BYTES)
    delimiter = "\t" if fmt == "tsv" else sniff_delimiter(head, source=repr(filename))
    blank_lines: list[tuple[int, int]] = []
    header = _check_rows_fast(filename, data, delimiter, blank_lines)
    if header is None:  # quotes used in a way only the csv module reads as Python does
        _check_text(filename, data)
        header = _check_rows(filename, data.decode("utf-8"), delimiter)
    elif blank_lines:
        kept, at = [], 0
        for begin, end in blank_lines:
            kept.append(data[at:begin])
            at = end
        data = b"".join([*kept, data[at:]])
    _check_names(filename, header)
    # Polars refuses text that is not UTF-8, so the whole file is only checked again to find a byte that is not.
    frame = _read_csv(filename, data, delimiter, on_error=lambda: _check_text(filename, data))
    return frame, delimiter


def _check_text(filename: str, data: bytes, *, limit: int | None = None) -> str:
    """Check `data` (without BOM; its first `limit` bytes) is UTF-8 text, a block at a time (no copy of the
    whole file), else raise _NotUtf8; return its start (up to 64 KiB, cut at a line break) for dialect sniffing."""
    if not data[:4096].strip() and not data.strip():
        raise InvalidInput.translatable(N_("The uploaded file %(file)s is empty."), file=repr(filename))
    if b"\x00" in data[:65536]:
        raise InvalidInput.translatable(N_("%(file)s is not UTF-8 text/CSV: it contains binary (NUL) bytes."),
                                        file=repr(filename))
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)[:limit]
    head = ""
    for offset in range(0, len(view), DECODE_BLOCK):
        # Only the real end of the file may not cut a character: the end of the sniffed head often does.
        final = offset + DECODE_BLOCK >= len(view) and len(view) == len(data)
        try:
            text = decoder.decode(view[offset:offset + DECODE_BLOCK], final=final)
        except UnicodeDecodeError:
            raise _NotUtf8 from None
        if offset == 0:
            head = text[:SNIFF_BYTES]
            head = head[: head.rfind("\n") + 1] or head
    return head


def _check_rows(filename: str, text: str, delimiter: str) -> list[str]:
    """Return the header after checking every row has as many fields as it (csv's C reader, no copies)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput.translatable(N_("The uploaded file %(file)s is empty."), file=repr(filename)) from None
    except csv.Error as exc:
        raise InvalidInput.translatable(N_("%(file)s: the header line cannot be read as CSV: %(reason)s."),
                                        file=repr(filename), reason=str(exc)) from None
    expected = len(header)
    try:
        for row in reader:
            if len(row) != expected and row:
                raise _wrong_field_count(filename, reader.line_num, expected, len(row))
    except csv.Error as exc:
        raise InvalidInput.translatable(N_("%(file)s line %(line)d: cannot be read as CSV: %(reason)s."),
                                        file=repr(filename), line=reader.line_num, reason=str(exc)) from None
    return header


def _check_rows_fast(filename: str, data: bytes, delimiter: str, blank_lines: list[tuple[int, int]] | None = None
                     ) -> list[str] | None:
    """`_check_rows` over the UTF-8 bytes with NumPy, a block at a time; None when the csv module must decide.

    The byte ranges of blank lines (which Polars would read as rows of nulls) are added to `blank_lines`.

    A delimiter, quote or line break byte never occurs inside a multi-byte UTF-8 character. With RFC 4180
    quoting (a quote opens a field, closes it before a delimiter or line end, and doubles inside it), a byte is
    inside quotes exactly when an odd number of quotes precede it, so records and fields are found by counting.
    Any other use of quotes, an unterminated quote or a lone carriage return returns None.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    total = len(raw)
    quote, newline, cr, sep = ord('"'), ord("\n"), ord("\r"), ord(delimiter)
    quotes_before = newlines_before = carry = 0
    previous_end = -1
    header: list[str] | None = None
    for start in range(0, max(total, 1), FAST_CHECK_BLOCK):
        stop = min(start + FAST_CHECK_BLOCK, total)
        block = raw[start:stop]
        is_quote = block == quote
        quotes = np.flatnonzero(is_quote) + start
        if stop == total and (quotes_before + len(quotes)) % 2:
            return None  # an unterminated quote: the csv module names the line
        if len(quotes):
            opening = (quotes_before + np.arange(len(quotes))) % 2 == 0
            before = raw[np.maximum(quotes - 1, 0)]
            after = np.where(quotes + 1 < total, raw[np.minimum(quotes + 1, total - 1)], newline)
            starts_field = (quotes == 0) | (before == sep) | (before == newline) | (before == quote)
            ends_field = (after == sep) | (after == newline) | (after == cr) | (after == quote)
            if not np.all(np.where(opening, starts_field, ends_field)):
                return None
        returns = np.flatnonzero(block == cr) + start
        if len(returns) and not np.all(raw[np.minimum(returns + 1, total - 1)] == newline) or (
                len(returns) and returns[-1] == total - 1):
            return None
        lines = np.flatnonzero(block == newline) + start
        marks = np.flatnonzero(block == sep) + start
        # Quoted stretches of this block: pairs of quotes (one may lie in the previous or the next block).
        spans = np.concatenate(([start - 1], quotes)) if quotes_before % 2 else quotes
        spans = np.append(spans, stop) if len(spans) % 2 else spans
        ends = lines[~_within(lines, spans[0::2], spans[1::2])]
        marks = marks[~_within(marks, spans[0::2], spans[1::2])]
        if stop == total and (ends[-1] if len(ends) else previous_end) < total - 1:
            ends = np.append(ends, total)  # the last record has no line break
        cuts = np.searchsorted(marks, ends)
        at_ends = cuts
        fields = np.diff(np.concatenate(([0], at_ends))) + 1
        if len(fields):
            fields[0] += carry
            carry = len(marks) - int(cuts[-1])
        else:
            carry += len(marks)
        begins = np.concatenate(([previous_end + 1], ends[:-1] + 1)) if len(ends) else ends
        lengths = ends - begins
        lengths = lengths - (raw[np.maximum(np.minimum(ends, total) - 1, 0)] == cr) * (lengths > 0)
        line_numbers = newlines_before + np.searchsorted(lines, ends) + 1
        rows = np.flatnonzero(lengths > 0)
        if blank_lines is not None and len(rows) < len(lengths):
            empty = np.flatnonzero(lengths == 0)
            blank_lines.extend(zip(begins[empty].tolist(), np.minimum(ends[empty] + 1, total).tolist(), strict=True))
        if header is None and len(rows):
            first = int(rows[0])
            text = data[begins[first]:begins[first] + lengths[first]].decode("utf-8")
            header = next(csv.reader([text], delimiter=delimiter, strict=False))
            if len(header) != fields[first]:
                return None
            rows = rows[1:]
        if header is not None:
            wrong = rows[fields[rows] != len(header)]
            if len(wrong):
                at = int(wrong[0])
                raise _wrong_field_count(filename, int(line_numbers[at]), len(header), int(fields[at]))
        if len(ends):
            previous_end = int(ends[-1])
        quotes_before += len(quotes)
        newlines_before += len(lines)
    if header is None:
        raise InvalidInput.translatable(N_("The uploaded file %(file)s is empty."), file=repr(filename))
    return header


def _within(positions: np.ndarray, opens: np.ndarray, closes: np.ndarray) -> np.ndarray:
    """Which of the sorted `positions` lie strictly between some opens[i] and closes[i] (sorted, disjoint)."""
    inside = np.zeros(len(positions), dtype=bool)
    wide = closes - opens > 1  # "" (an empty field) holds nothing
    if not len(positions) or not wide.any():
        return inside
    low = np.searchsorted(positions, opens[wide], side="right")
    counts = np.searchsorted(positions, closes[wide]) - low
    total = int(counts.sum())
    if total:
        # The indices low[i] .. low[i] + counts[i] - 1 of every span, without a Python loop.
        offsets = np.repeat(low - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        inside[offsets + np.arange(total)] = True
    return inside


def _wrong_field_count(filename: str, line: int, expected: int, found: int) -> InvalidInput:
    return InvalidInput.translatable(
        N_("%(file)s line %(line)d: expected %(expected)d fields (like the header) but found %(found)d."),
        file=repr(filename), line=line, expected=expected, found=found)


def _check_names(filename: str, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name.strip():
            raise InvalidInput.translatable(
                N_("%(file)s: column %(position)d of the header has an empty name; name every column."),
                file=repr(filename), position=position)
        if name in seen:
            raise InvalidInput.translatable(
                N_("%(file)s: duplicate column name %(name)s (columns %(first)d and %(position)d); "
                   "column names must be unique."),
                file=repr(filename), name=repr(name), first=seen[name], position=position)
        seen[name] = position


def _read_csv(filename: str, data: bytes, delimiter: str, *, on_error: Callable[[], object] | None = None
              ) -> pl.DataFrame:
    options: dict[str, Any] = {"separator": delimiter, "null_values": NULL_VALUES, "raise_if_empty": False}
    try:
        try:
            return pl.read_csv(io.BytesIO(data), infer_schema_length=INFER_ROWS, **options)
        except pl.exceptions.ComputeError:
            # A value far down the file does not fit the type the first rows gave: infer from every row (slower).
            return pl.read_csv(io.BytesIO(data), infer_schema_length=None, **options)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        if on_error is not None:
            on_error()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput.translatable(N_("%(file)s could not be parsed as CSV: %(reason)s"),
                                        file=repr(filename), reason=first) from None
