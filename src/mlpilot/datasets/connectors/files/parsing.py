"""Reading one whole file of each format into a frame: CSV/TSV (encoding, delimiter and header detection,
bad rows failed or quarantined by line), Parquet, Excel, JSON and JSON Lines."""

from __future__ import annotations

import csv
import io
import zlib
from typing import Any

import fsspec
import polars as pl

from mlpilot.core.limits import gunzip_capped
from mlpilot.datasets.connectors import formats
from mlpilot.datasets.connectors.base import BaseConnector, ConnectorError, QuarantinedRow
from mlpilot.datasets.connectors.encoding import (
    decode_text,
    sniff_delimiter,
    sniff_header,
)
from mlpilot.datasets.connectors.formats import first_line as _first_line
from mlpilot.datasets.connectors.formats import format_of
from mlpilot.datasets.connectors.formats import is_blank as _blank

# What a connection may set as its format: one of the known formats, or "auto" to go by each file's name.
FORMATS = ("auto", *formats.FORMATS)
NULL_VALUES = ["", "NA", "N/A", "null", "NULL"]
PREVIEW_BYTES = 2 * 1024 * 1024
INFER_ROWS = 10_000




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
                    data: bytes = handle.read(PREVIEW_BYTES + 1)
                    if len(data) > PREVIEW_BYTES:
                        data = data[: data.rfind(b"\n") + 1] or data[:PREVIEW_BYTES]
                    return data
                whole: bytes = handle.read()
                return whole
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
            frame = formats.read_parquet(path, data)
        elif fmt == "xlsx":
            frame = formats.read_excel(path, data, sheet=self.sheet, header_row=self.header_row,
                                       check_names=lambda names, source: self.check_column_names(names, source=source))
        elif fmt == "json":
            frame = formats.read_json(path, data)
        else:
            frame = formats.read_json_lines(path, data, encoding=self.encoding, limit=limit,
                                            on_bad_line=lambda number, line, reason: self._bad_json_line(
                                                path, number, line, reason))
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

    def _bad_json_line(self, path: str, number: int, line: str, reason: str) -> None:
        """A JSON Lines line that is not an object fails the read or is quarantined (on_bad_rows)."""
        if self.on_bad_rows == "fail":
            raise ConnectorError(f"{path} line {number}: {reason}. Fix the file or set "
                                 "on_bad_rows=quarantine to set such rows aside.")
        self.quarantined.append(QuarantinedRow(path, number, line[:10_000], reason))

    def _json_object_line(self, path: str, number: int, line: str) -> bool:
        """Whether a JSON Lines line is a row: blank lines are skipped, other non-objects go to `_bad_json_line`."""
        if not line.strip():
            return False
        problem = formats.json_line_problem(line)
        if problem is not None:
            self._bad_json_line(path, number, line, problem)
            return False
        return True


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
