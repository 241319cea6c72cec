"""Turning uploaded bytes into a validated Polars frame: format by extension, CSV dialect sniffing, and
errors that name the file, line and column. Pure: no database, no storage.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from dataclasses import dataclass

import polars as pl

from mlpilot.core.errors import InvalidInput

# Suffix → (format, compressed). Longest suffixes first so ".csv.gz" wins over ".gz".
SUFFIXES: tuple[tuple[str, str, bool], ...] = (
    (".csv.gz", "csv", True),
    (".tsv.gz", "tsv", True),
    (".txt.gz", "csv", True),
    (".parquet", "parquet", False),
    (".csv", "csv", False),
    (".tsv", "tsv", False),
    (".txt", "csv", False),
)
SUPPORTED = ".csv, .tsv, .txt, .csv.gz, .tsv.gz or .parquet"
DELIMITERS = (",", ";", "\t")
NULL_VALUES = ["NA", "N/A", "null", "NULL"]
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ParsedUpload:
    """A validated upload: the frame plus what the version row records about its source."""

    frame: pl.DataFrame
    source_format: str
    delimiter: str | None


def detect_format(filename: str) -> tuple[str, bool]:
    """Return (format, gzip-compressed) for `filename`, or raise naming the unsupported extension."""
    lower = filename.lower()
    for suffix, fmt, compressed in SUFFIXES:
        if lower.endswith(suffix):
            return fmt, compressed
    dot = lower.rfind(".")
    ext = lower[dot:] if dot > 0 else "(none)"
    raise InvalidInput(f"Unsupported file type {ext!r} for {filename!r}; upload {SUPPORTED}.")


def parse_upload(filename: str, data: bytes) -> ParsedUpload:
    """Parse and validate an uploaded file; raise InvalidInput naming the problem."""
    fmt, compressed = detect_format(filename)
    if not data:
        raise InvalidInput(f"The uploaded file {filename!r} is empty.")
    if compressed:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInput(f"{filename!r} is not a valid gzip file: {exc}.") from None
        if not data:
            raise InvalidInput(f"The uploaded file {filename!r} is empty once decompressed.")
    if fmt == "parquet":
        frame = _read_parquet(filename, data)
        _check_names(filename, frame.columns)
        delimiter = None
    else:
        text = _decode(filename, data)
        delimiter = "\t" if fmt == "tsv" else sniff_delimiter(text)
        header = _check_rows(filename, text, delimiter)
        _check_names(filename, header)
        frame = _read_csv(filename, text, delimiter)
    if frame.height == 0:
        raise InvalidInput(f"{filename!r} has a header but no data rows; upload at least one row.")
    if frame.width == 0:
        raise InvalidInput(f"{filename!r} has no columns.")
    return ParsedUpload(frame=frame, source_format=fmt, delimiter=delimiter)


def _decode(filename: str, data: bytes) -> str:
    if data.startswith(BOM):
        data = data[len(BOM):]
    if b"\x00" in data[:65536]:
        raise InvalidInput(f"{filename!r} is not UTF-8 text/CSV: it contains binary (NUL) bytes.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{filename!r} is not UTF-8 text/CSV: byte 0x{data[exc.start]:02x} at offset {exc.start} is not "
            "valid UTF-8. Save the file as UTF-8 CSV and upload it again."
        ) from None
    if not text.strip():
        raise InvalidInput(f"The uploaded file {filename!r} is empty.")
    return text


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter (comma, semicolon or tab) that splits the first lines most consistently."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _check_rows(filename: str, text: str, delimiter: str) -> list[str]:
    """Return the header after checking every row has as many fields as it (csv's C reader, no copies)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"The uploaded file {filename!r} is empty.") from None
    except csv.Error as exc:
        raise InvalidInput(f"{filename!r}: the header line cannot be read as CSV: {exc}.") from None
    expected = len(header)
    try:
        for row in reader:
            if len(row) != expected and row:
                raise InvalidInput(
                    f"{filename!r} line {reader.line_num}: expected {expected} fields (like the header) "
                    f"but found {len(row)}."
                )
    except csv.Error as exc:
        raise InvalidInput(f"{filename!r} line {reader.line_num}: cannot be read as CSV: {exc}.") from None
    return header


def _check_names(filename: str, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name.strip():
            raise InvalidInput(f"{filename!r}: column {position} of the header has an empty name; name every column.")
        if name in seen:
            raise InvalidInput(
                f"{filename!r}: duplicate column name {name!r} (columns {seen[name]} and {position}); "
                "column names must be unique."
            )
        seen[name] = position


def _read_csv(filename: str, text: str, delimiter: str) -> pl.DataFrame:
    try:
        return pl.read_csv(io.BytesIO(text.encode("utf-8")), separator=delimiter, infer_schema_length=None,
                           null_values=NULL_VALUES, raise_if_empty=False)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"{filename!r} could not be parsed as CSV: {first}") from None


def _read_parquet(filename: str, data: bytes) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars/arrow raise several unrelated types for corrupt files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"{filename!r} is not a valid Parquet file: {first}") from None
