"""The file formats mlpilot reads, in one place: which name is which format, and one reader per format.

Uploads (`datasets.ingest`), the `file` connector and offline profiling (`datasets.profile_files`) all find a
file's format here and read Parquet, Excel, JSON and JSON Lines with these functions, so a format accepted, an
error message or a safety check (gzip caps, defused XML in workbooks) is the same whichever way a file arrives.
CSV/TSV text is read by the connector (any encoding, quarantine) and by uploads (strict UTF-8 with the failing
byte and line named, tuned for speed); both sniff the dialect with `encoding.sniff_delimiter`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

from mlpilot.core.errors import N_, InvalidInput
from mlpilot.datasets.connectors.base import ConnectorError
from mlpilot.datasets.connectors.encoding import decode_text

FORMATS = ("csv", "tsv", "parquet", "xlsx", "json", "jsonl")
TEXT_FORMATS = ("csv", "tsv", "jsonl")  # read line by line, so they can stream
# Name ending → (format, gzip-compressed); longest first so ".csv.gz" wins over ".gz".
SUFFIXES: tuple[tuple[str, str, bool], ...] = (
    (".jsonl.gz", "jsonl", True), (".csv.gz", "csv", True), (".tsv.gz", "tsv", True), (".txt.gz", "csv", True),
    (".ndjson", "jsonl", False), (".jsonl", "jsonl", False), (".json", "json", False),
    (".parquet", "parquet", False), (".pq", "parquet", False), (".xlsx", "xlsx", False),
    (".csv", "csv", False), (".tsv", "tsv", False), (".txt", "csv", False),
)
SUPPORTED = ", ".join(suffix for suffix, _, _ in sorted(SUFFIXES, key=lambda entry: (entry[1], entry[0])))
# The `accept` attribute of upload forms.
ACCEPT = ",".join(sorted({suffix.removesuffix(".gz") for suffix, _, _ in SUFFIXES} | {".gz"}))

# (line number, raw line, reason) of a JSON Lines line that is not an object; raises to fail the read.
BadLine = Callable[[int, str, str], None]


def format_of(name: str, configured: str = "auto") -> str | None:
    """The format of the file called `name` (the configured one unless "auto"), None when the name says nothing."""
    if configured != "auto":
        return configured
    lower = name.lower()
    for suffix, fmt, _ in SUFFIXES:
        if lower.endswith(suffix):
            return fmt
    return None


def detect_format(name: str) -> tuple[str, bool]:
    """Return (format, gzip-compressed) for a file called `name`, or raise naming its unsupported extension."""
    lower = name.lower()
    for suffix, fmt, compressed in SUFFIXES:
        if lower.endswith(suffix):
            return fmt, compressed
    dot = lower.rfind(".")
    extension = lower[dot:] if dot > 0 else "(none)"
    raise InvalidInput.translatable(N_("Unsupported file type %(extension)s for %(name)s; use one of %(supported)s."),
                                    extension=repr(extension), name=repr(name), supported=SUPPORTED)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (library messages run on with hints and tracebacks)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_blank(data: bytes | str) -> bool:
    """Whether the content is only whitespace (looking at the whole of it only when its start is blank)."""
    return not data[:4096].strip() and not data.strip()


def read_parquet(source: str, data: bytes | Path) -> pl.DataFrame:
    """A whole Parquet file (bytes, or a path read directly)."""
    try:
        return pl.read_parquet(data if isinstance(data, Path) else io.BytesIO(data))
    except Exception as exc:  # polars/arrow raise several unrelated types for corrupt files
        raise ConnectorError.translatable(N_("%(source)s is not a valid Parquet file: %(reason)s"), source=source,
                                          reason=first_line(exc)) from None


def read_json(source: str, data: bytes) -> pl.DataFrame:
    """A JSON array of objects, one per row (or an object whose single list value holds them, as exports do)."""
    text = decode_text(data, source=source).text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConnectorError.translatable(N_("%(source)s line %(line)d column %(column)d: invalid JSON: %(reason)s."),
                                          source=source, line=exc.lineno, column=exc.colno, reason=exc.msg) from None
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConnectorError.translatable(N_("%(source)s: expected a JSON array of objects (one object per row)."),
                                          source=source)
    if not value:
        raise ConnectorError(f"The source is empty: {source} holds an empty array.")
    try:
        return pl.from_dicts(value, infer_schema_length=None)
    except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
        raise ConnectorError(f"{source} could not be read as a table: {first_line(exc)}") from None


def json_line_problem(line: str) -> str | None:
    """Why a non-blank JSON Lines line is not a row (None when it is a JSON object)."""
    try:
        value = json.loads(line)
    except ValueError as exc:
        return f"not a JSON object: {exc}"
    return None if isinstance(value, dict) else "not a JSON object: expected a JSON object"


def fail_bad_line(source: str) -> BadLine:
    """The default for a line that is not a JSON object: the read fails, naming the line."""

    def fail(number: int, line: str, reason: str) -> None:
        raise ConnectorError(f"{source} line {number}: {reason}.")

    return fail


def read_json_lines(source: str, data: bytes, *, encoding: str = "auto", limit: int | None = None,
                    on_bad_line: BadLine | None = None) -> pl.DataFrame:
    """JSON Lines, one object per line; blank lines are skipped, other lines go to `on_bad_line` (default: fail)."""
    bad_line = on_bad_line or fail_bad_line(source)
    text = decode_text(data, source=source, encoding=encoding).text
    good: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        problem = json_line_problem(line)
        if problem is not None:
            bad_line(number, line, problem)
            continue
        good.append(line)
        if limit is not None and len(good) >= limit:
            break
    if not good:
        raise ConnectorError(f"The source is empty: {source} has no JSON objects.")
    try:
        return pl.read_ndjson(io.BytesIO("\n".join(good).encode("utf-8")), infer_schema_length=None)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise ConnectorError(f"{source} could not be read as JSON Lines: {first_line(exc)}") from None


def read_excel(source: str, data: bytes, *, sheet: str | int | None = None, header_row: int = 1,
               check_names: Callable[[list[str], str], None] | None = None) -> pl.DataFrame:
    """One sheet of an .xlsx workbook (the first unless named or numbered from 1), its names in `header_row`.

    The header is read with openpyxl (which parses the workbook's XML through defusedxml) so an empty or misplaced
    header row is named; the cells are read with calamine, several times faster."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError for files that are not xlsx
        raise ConnectorError.translatable(N_("%(source)s is not a valid .xlsx workbook: %(reason)s"), source=source,
                                          reason=first_line(exc)) from None
    try:
        sheets = book.sheetnames
        if sheet in (None, ""):
            sheet_name = sheets[0]
        elif str(sheet).isdigit() and str(sheet) not in sheets:
            number = int(sheet)  # type: ignore[arg-type]  # digits, checked above
            if not 1 <= number <= len(sheets):
                raise ConnectorError(f"{source} has {len(sheets)} sheet(s); sheet {number} does not exist.")
            sheet_name = sheets[number - 1]
        elif str(sheet) in sheets:
            sheet_name = str(sheet)
        else:
            raise ConnectorError(f"{source} has no sheet named {sheet!r}; sheets are {', '.join(sheets)}.")
        rows = book[sheet_name].iter_rows(min_row=header_row, max_row=header_row, values_only=True)
        header = next(rows, None)
    finally:
        book.close()
    if header is None:
        raise ConnectorError(f"The source is empty: sheet {sheet_name!r} of {source} has no row {header_row}.")
    names = ["" if v is None else str(v) for v in header]
    while names and not names[-1]:
        names.pop()  # trailing empty cells are formatting, not columns
    if not names:
        raise ConnectorError(f"{source} sheet {sheet_name!r} row {header_row} is empty; set header_row to the "
                             "row that holds the column names.")
    if check_names is not None:
        check_names(names, f"{source} sheet {sheet_name!r} row {header_row}")
    try:
        frame: pl.DataFrame = pl.read_excel(io.BytesIO(data), sheet_name=sheet_name, engine="calamine",
                                            read_options={"header_row": header_row - 1})
    except Exception as exc:  # fastexcel raises its own hierarchy
        raise ConnectorError(f"{source} sheet {sheet_name!r} cannot be read: {first_line(exc)}") from None
    return frame.select(frame.columns[: len(names)])
