"""Open local data files lazily and profile them: the offline path of `mlpilot data profile` (no server).

UTF-8 text and Parquet stream from disk, so files larger than memory are profiled in streaming mode.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.datasets import profiling
from mlpilot.datasets.connectors import formats
from mlpilot.datasets.connectors.encoding import decode_text, sniff_delimiter

SNIFF_BYTES = 1 << 16
INFER_ROWS = 10_000


def scan_file(path: Path) -> pl.LazyFrame:
    """Open a file of any format in `connectors.formats` lazily: CSV/TSV (any delimiter; UTF-8, UTF-8 BOM or
    CP949), Parquet, JSON Lines, JSON or Excel.

    UTF-8 text, JSON Lines and Parquet stream from disk; a legacy-encoded, gzip, JSON or Excel file is read into
    memory by the same readers uploads and file connections use.
    """
    name = path.name.lower()
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path}: the file is empty.")
    fmt = formats.format_of(name)
    if fmt is None:
        raise InvalidInput(f"{path}: unsupported file type; profile a file ending in one of {formats.SUPPORTED}.")
    compressed = name.endswith(".gz")
    if fmt == "parquet":
        return pl.scan_parquet(path)
    if fmt == "jsonl" and not compressed:
        return pl.scan_ndjson(path)
    if fmt in ("json", "jsonl", "xlsx"):
        data = gzip.decompress(path.read_bytes()) if compressed else path.read_bytes()
        read = {"json": formats.read_json, "jsonl": formats.read_json_lines, "xlsx": formats.read_excel}[fmt]
        return read(str(path), data).lazy()
    if compressed:
        return _read_text(path, gzip.decompress(path.read_bytes()), tab=fmt == "tsv")
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    try:
        # Cut at the last newline so a multi-byte character split by the sniff window is not an error.
        text = head[: head.rfind(b"\n") + 1 or len(head)].decode("utf-8-sig")
    except UnicodeDecodeError:
        return _read_text(path, path.read_bytes(), tab=fmt == "tsv")
    separator = "\t" if fmt == "tsv" else sniff_delimiter(text, source=str(path))
    lazy = pl.scan_csv(path, separator=separator, infer_schema_length=INFER_ROWS, encoding="utf8")
    try:
        lazy.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"{path}: cannot be read as CSV: {str(exc).splitlines()[0]}") from None
    return lazy


def _read_text(path: Path, data: bytes, *, tab: bool) -> pl.LazyFrame:
    decoded = decode_text(data, source=str(path))
    separator = "\t" if tab else sniff_delimiter(decoded.text[:SNIFF_BYTES], source=str(path))
    try:
        return pl.read_csv(decoded.text.encode("utf-8"), separator=separator, infer_schema_length=INFER_ROWS).lazy()
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"{path}: cannot be read as CSV: {str(exc).splitlines()[0]}") from None


def profile_file(path: Path, *, target: str | None = None, task: str | None = None,
                 full_max_rows: int = profiling.FULL_MAX_ROWS, sample_rows: int = profiling.SAMPLE_ROWS,
                 sampled: bool = False, seed: int = 0, progress: profiling.Progress | None = None) -> dict[str, Any]:
    """Profile a data file; a column whose type changes after the first rows makes the whole file re-inferred."""
    options: dict[str, Any] = {"target": target, "task": task, "full_max_rows": full_max_rows,
                               "sample_rows": sample_rows, "sampled": sampled, "seed": seed, "progress": progress}
    lazy = scan_file(path)
    try:
        profile = profiling.profile_frame(lazy, **options)
    except pl.exceptions.ComputeError:
        if not path.name.lower().endswith((".csv", ".tsv", ".txt")):
            raise
        # A value far down the file did not fit the type inferred from the first rows: infer from all rows.
        profile = profiling.profile_frame(pl.scan_csv(path, separator=_separator(lazy), infer_schema_length=None),
                                          **options)
    profile["source"] = {"file": path.name, "bytes": path.stat().st_size}
    return profile


def _separator(lazy: pl.LazyFrame) -> str:
    plan = lazy.explain()
    return "\t" if "separator: b'\\t'" in plan else ";" if "separator: b';'" in plan else ","
