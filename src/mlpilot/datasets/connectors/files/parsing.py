"""Reading one whole file of each format into a frame: CSV/TSV (encoding, delimiter and header detection,
bad rows failed or quarantined by line), Parquet, Excel, JSON and JSON Lines."""

from __future__ import annotations

import csv
import io
import json
import zlib
from typing import Any

import fsspec
import polars as pl

from mlpilot.core.limits import gunzip_capped
from mlpilot.datasets.connectors.base import BaseConnector, ConnectorError, QuarantinedRow
from mlpilot.datasets.connectors.encoding import (
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
INFER_ROWS = 10_000




def format_of(path: str, configured: str = "auto") -> str | None:
    """Return the format of `path` (the configured one unless auto), or None when the suffix is unknown."""
    if configured != "auto":
        return configured
    lower = path.lower()
    for suffix, fmt in SUFFIXES:
        if lower.endswith(suffix):
            return fmt
    return None


class FileParsing(BaseConnector):
    """Whole-file reads of the `file` connector, one method per format."""

    # Set by FileConnector.__init__ from the connection's settings (see its docstring).
    path: str
    format: str
    encoding: str
    delimiter: str
    header: bool | None
    sheet: Any
    header_row: int
    stream_above_bytes: int
    storage_options: dict[str, Any]

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
