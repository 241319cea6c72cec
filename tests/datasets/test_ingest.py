"""Upload parsing: the byte-level row check agrees with Python's csv module on line numbers and field counts
(quotes holding delimiters and line breaks, CRLF, blank lines, block boundaries), and bad text is named."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.datasets import ingest
from mlpilot.datasets.connectors import formats
from mlpilot.datasets.connectors.files import FileConnector
from mlpilot.datasets.profile_files import scan_file

QUOTED = ('id,이름,메모\r\n1,"서울, 강남","여러\r\n줄"\r\n\r\n2,"say ""hi""",\r\n3,"",""\r\n'
          '4,"x\ny",z,extra\r\n5,a,b\r\n').encode()


def csv_module_verdict(data: bytes) -> str:
    """What the csv module says: the header, or the first row whose field count differs (line = its last line)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=False)
    header = next(row for row in reader if row)
    for row in reader:
        if row and len(row) != len(header):
            return f"line {reader.line_num}: expected {len(header)} fields (like the header) but found {len(row)}"
    return ",".join(header)


def fast_verdict(data: bytes) -> str | None:
    try:
        header = ingest._check_rows_fast("x.csv", data, ",")
    except InvalidInput as exc:
        return str(exc).split("'x.csv' ")[1].rstrip(".")
    return None if header is None else ",".join(header)


@pytest.mark.parametrize("block", [3, 7, 64, ingest.FAST_CHECK_BLOCK])
def test_fast_row_check_matches_the_csv_module_across_blocks(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(ingest, "FAST_CHECK_BLOCK", block)
    assert fast_verdict(QUOTED) == csv_module_verdict(QUOTED) == \
        "line 8: expected 3 fields (like the header) but found 4"
    good = QUOTED.replace(b',z,extra', b',z')
    assert fast_verdict(good) == csv_module_verdict(good) == "id,이름,메모"
    no_final_break = b"a,b\n1,2\n3"
    assert fast_verdict(no_final_break) == csv_module_verdict(no_final_break)


def test_irregular_quotes_and_lone_carriage_returns_go_to_the_csv_module() -> None:
    for data in (b'a,b\n1,ab"c\n', b'a,b\n"1"x,2\n', b'a,b\n"open,2\n3,4\n', b"a,b\r1,2\r"):
        assert ingest._check_rows_fast("x.csv", data, ",") is None
    # ... and the upload still gets the csv module's answer.
    with pytest.raises(InvalidInput, match=r"line 3: expected 2 fields \(like the header\) but found 3"):
        ingest.parse_upload("odd.csv", b'a,b\n1,ab"c\n2,3,4\n')


def test_upload_parses_quoted_korean_text_and_names_bad_bytes_anywhere() -> None:
    parsed = ingest.parse_upload("notes.csv", b"\xef\xbb\xbf" + QUOTED.replace(b',z,extra', b',z'))
    assert parsed.frame.height == 5 and parsed.frame["이름"].to_list()[:2] == ["서울, 강남", 'say "hi"']
    assert parsed.frame["메모"][0] == "여러\r\n줄"
    late = b"a,b\n" + b"1,x\n" * 30_000 + b"2,\xff\n"
    with pytest.raises(InvalidInput, match=r"byte 0xff at offset 120006 is not valid UTF-8"):
        ingest.parse_upload("late.csv", late)
    with pytest.raises(InvalidInput, match="is empty"):
        ingest.parse_upload("blank.csv", b" \r\n\n")
    # A column whose type changes after the first 10,000 rows is inferred from every row.
    wide = ingest.parse_upload("late-type.csv", b"n\n" + b"1\n" * 20_000 + b"1.5\n")
    assert str(wide.frame.schema["n"]) == "Float64"


def _workbook(rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_uploads_read_every_format_the_connector_and_profiler_read(tmp_path: Path) -> None:
    """One table of formats and one reader per format: an upload, a file connection and `mlpilot data profile`
    give the same frame for the same file."""
    files = {
        "sales.xlsx": _workbook([["지역", "amount"], ["서울", 3], ["부산", 4]]),
        "sales.json": json.dumps({"data": [{"지역": "서울", "amount": 3}, {"지역": "부산", "amount": 4}]},
                                 ensure_ascii=False).encode(),
        "sales.jsonl.gz": gzip.compress('{"지역": "서울", "amount": 3}\n\n{"지역": "부산", "amount": 4}\n'.encode()),
        "sales.pq": _parquet_bytes(pl.DataFrame({"지역": ["서울", "부산"], "amount": [3, 4]})),
    }
    for name, data in files.items():
        parsed = ingest.parse_upload(name, data)
        assert parsed.frame.to_dicts() == [{"지역": "서울", "amount": 3}, {"지역": "부산", "amount": 4}], name
        assert parsed.source_format == formats.format_of(name)
        (tmp_path / name).write_bytes(data)
        connector = FileConnector({"path": str(tmp_path / name)}, {})
        assert connector.preview(10).to_dicts() == parsed.frame.to_dicts(), name
        assert scan_file(tmp_path / name).collect().to_dicts() == parsed.frame.to_dicts(), name


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def test_a_bad_upload_of_each_format_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"Unsupported file type '\.xls' for 'old\.xls'; use one of \.csv"):
        ingest.parse_upload("old.xls", b"\xd0\xcf\x11\xe0")
    with pytest.raises(InvalidInput, match=r"'rows\.jsonl' line 3: not a JSON object"):
        ingest.parse_upload("rows.jsonl", b'{"a": 1}\n\n"text"\n')
    with pytest.raises(InvalidInput, match=r"duplicate column name 'a'"):
        ingest.parse_upload("dup.xlsx", _workbook([["a", "a"], [1, 2]]))
    with pytest.raises(InvalidInput, match=r"'empty\.json' holds an empty array"):
        ingest.parse_upload("empty.json", b"[]")
