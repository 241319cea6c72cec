"""Read a long table of labels from a local file (CSV/TSV, Parquet, JSON Lines) with the shared format readers."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.datasets.connectors.encoding import sniff_delimiter
from mlpilot.datasets.connectors.formats import detect_format, first_line, read_json_lines, read_parquet

# The offline CLI reads the whole table in memory: refuse files beyond this size with a clear message.
MAX_FILE_BYTES = 2 * 1024**3


def read_label_table(path: Path) -> pl.DataFrame:
    """The table in `path`, every column as read (labels keep their type); errors name the file."""
    source = str(path)
    if not path.is_file():
        raise InvalidInput(f"File not found: {source}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(f"{source} is larger than {MAX_FILE_BYTES // 1024**3} GB.")
    fmt, compressed = detect_format(path.name)
    if fmt == "parquet":
        return read_parquet(source, path)
    data = path.read_bytes()
    if compressed:
        data = gzip.decompress(data)
    if fmt == "jsonl":
        return read_json_lines(source, data)
    if fmt not in ("csv", "tsv"):
        raise InvalidInput(f"{source}: use a CSV, TSV, Parquet or JSON Lines file for labels.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source} is not UTF-8 text (byte {exc.start}).") from None
    separator = "\t" if fmt == "tsv" else sniff_delimiter(text, source=source)
    try:
        return pl.read_csv(text.encode("utf-8"), separator=separator, infer_schema_length=10_000)
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"{source} could not be read as CSV: {first_line(exc)}") from None
