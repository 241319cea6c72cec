"""The file connector on real bytes: encodings (UTF-8, BOM, CP949/EUC-KR), dialects, every format, folders, globs
and fsspec URLs, and each bad-input case with its message."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import fsspec
import openpyxl
import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.datasets.connectors import ConnectorError, connectors
from mlpilot.datasets.connectors.encoding import decode_text, sniff_delimiter, sniff_header
from mlpilot.datasets.connectors.files import FileConnector
from mlpilot.testing.connectors import check_connector
from tests.datasets.connectors.factories import KOREAN_ROWS, korean_csv, write_workbook


def read_all(settings: dict) -> tuple[pl.DataFrame, FileConnector]:
    connector = FileConnector(settings, {})
    return pl.concat(list(connector.read()), how="vertical_relaxed"), connector


def test_registry_has_file_and_sql() -> None:
    assert {"file", "sql"} <= set(connectors.names())
    assert connectors.get("file") is FileConnector


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp949", False),
                                                ("euc-kr", False)])
def test_korean_csv_in_every_encoding(tmp_path: Path, encoding: str, bom: bool) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(korean_csv(encoding, bom=bom))
    frame, _ = read_all({"path": str(path)})
    assert frame.columns == ["이름", "나이", "주소"]  # no BOM left on the first name
    assert frame["이름"].to_list() == [r[0] for r in KOREAN_ROWS]
    assert frame["나이"].dtype == pl.Int64
    expected = {"utf-8": "utf-8-sig" if bom else "utf-8", "cp949": "cp949", "euc-kr": "cp949"}[encoding]
    assert decode_text(path.read_bytes(), source="x").encoding == expected


def test_cp949_only_characters_decode(tmp_path: Path) -> None:
    # '똠' and '햏' exist in CP949 but not in EUC-KR: a real legacy export uses them.
    path = tmp_path / "names.csv"
    path.write_bytes("name,n\n똠방각하,1\n햏자,2\n".encode("cp949"))
    frame, _ = read_all({"path": str(path)})
    assert frame["name"].to_list() == ["똠방각하", "햏자"]


def test_mixed_and_wrong_encoding_are_reported(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes("이름,n\n홍길동,1\n".encode() + "김철수,2\n".encode("cp949"))
    with pytest.raises(InvalidInput, match=r"mixes encodings: line 1 is UTF-8 but line 3 is not"):
        read_all({"path": str(mixed)})
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(korean_csv("cp949"))
    with pytest.raises(InvalidInput, match=r"legacy.csv line 1: byte 0x.. is not valid utf-8"):
        read_all({"path": str(legacy), "encoding": "utf-8"})
    with pytest.raises(InvalidInput, match="unknown encoding 'klingon'"):
        read_all({"path": str(legacy), "encoding": "klingon"})
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"a,b\n\x00\x01\x02,3\n")
    with pytest.raises(InvalidInput, match="not a text file"):
        read_all({"path": str(binary)})


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(korean_csv("utf-8", delimiter=delimiter))
    frame, _ = read_all({"path": str(path)})
    assert frame.shape == (3, 3)
    assert sniff_delimiter(path.read_text(), source="x") == delimiter


def test_header_detection_and_override(tmp_path: Path) -> None:
    path = tmp_path / "no-header.csv"
    path.write_bytes(b"1,2.5,x\n2,3.5,y\n")
    frame, _ = read_all({"path": str(path)})
    assert frame.columns == ["column_1", "column_2", "column_3"] and frame.height == 2
    assert sniff_header("a,b\n1,2\n", ",") and not sniff_header("1,2\n3,4\n", ",")
    words = tmp_path / "words.csv"
    words.write_bytes(korean_csv("utf-8", header=False))
    frame, _ = read_all({"path": str(words), "header": "false"})
    assert frame.height == 3 and frame["column_1"][0] == "홍길동"


def test_malformed_rows_fail_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"id,amount,city\n1,10,Seoul\n2,20\n3,30,Busan\n4,40,Daegu,extra\n")
    with pytest.raises(ConnectorError, match=r"orders.csv line 3: expected 3 fields \(like the header\) but found 2"):
        read_all({"path": str(path)})


def test_malformed_rows_quarantined_and_the_read_continues(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b'id,amount,note\n1,10,"multi\nline"\n2,20\n3,30,ok\n4,40,x,extra\n5,50,fine\n')
    frame, connector = read_all({"path": str(path), "on_bad_rows": "quarantine"})
    assert frame["id"].to_list() == [1, 3, 5]
    assert frame["note"][0] == "multi\nline"
    assert [(q.line, q.raw) for q in connector.quarantined] == [(4, "2,20"), (6, "4,40,x,extra")]
    assert "found 2" in connector.quarantined[0].reason
    with pytest.raises(ConnectorError, match="on_bad_rows must be 'fail' or 'quarantine'"):
        FileConnector({"path": str(path), "on_bad_rows": "ignore"}, {})


def test_quoted_file_drops_blank_lines_and_multi_line_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes('id,note,점수\r\n1,"a, b",1.5\r\n\r\n2,"여러\r\n줄",2\r\n3,"bad\nrow",x,y\r\n4,"NA",3\r\n\r\n'
                     .encode())
    frame, connector = read_all({"path": str(path), "on_bad_rows": "quarantine"})
    assert frame.to_dicts() == [{"id": 1, "note": "a, b", "점수": 1.5}, {"id": 2, "note": "여러\r\n줄", "점수": 2.0},
                                {"id": 4, "note": None, "점수": 3.0}]
    assert [(q.line, q.raw) for q in connector.quarantined] == [(6, "3,bad\nrow,x,y")]
    headless = tmp_path / "headless.csv"
    headless.write_bytes(b'1,"x, y"\n2,"z"\n')
    frame, _ = read_all({"path": str(headless), "header": False})
    assert frame.columns == ["column_1", "column_2"] and frame["column_2"].to_list() == ["x, y", "z"]


def test_empty_sources(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ConnectorError, match="The source is empty: .*empty.csv has no data"):
        read_all({"path": str(empty)})
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(b"a,b,c\n")
    with pytest.raises(ConnectorError, match="header.csv has a header but no data rows"):
        read_all({"path": str(header_only)})
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "notes.md").write_text("not data")
    with pytest.raises(ConnectorError, match="The source is empty: the folder .* holds no readable file"):
        FileConnector({"path": str(folder)}, {}).test()
    with pytest.raises(ConnectorError, match="The source is empty: no file matches"):
        FileConnector({"path": str(folder / "*.csv")}, {}).test()
    with pytest.raises(ConnectorError, match="does not exist"):
        FileConnector({"path": str(tmp_path / "missing.csv")}, {}).test()


def test_duplicate_and_empty_column_names(tmp_path: Path) -> None:
    dup = tmp_path / "dup.csv"
    dup.write_bytes(b"id,name,name\n1,a,b\n")
    with pytest.raises(ConnectorError, match=r"duplicate column name 'name' \(columns 2 and 3\)"):
        read_all({"path": str(dup)})
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"id,,city\n1,a,b\n")
    with pytest.raises(ConnectorError, match="column 2 has an empty name"):
        read_all({"path": str(blank)})


def test_parquet_streams_in_chunks_by_row_group(tmp_path: Path) -> None:
    frame = pl.DataFrame({"id": list(range(1, 10_001)), "도시": ["서울", "부산"] * 5_000,
                          "at": pl.datetime_range(pl.datetime(2024, 1, 1), pl.datetime(2024, 1, 1, 2, 46, 39),
                                                  "1s", eager=True, time_zone="Asia/Seoul")})
    frame.write_parquet(tmp_path / "big.parquet", row_group_size=3_000)
    connector = FileConnector({"path": str(tmp_path / "big.parquet"), "watermark_column": "id"}, {})
    chunks = list(connector.read(chunk_rows=1_000))
    assert len(chunks) >= 10 and max(c.height for c in chunks) <= 1_000
    assert pl.concat(chunks).equals(frame)
    newer = pl.concat(list(connector.read(watermark="9500", chunk_rows=1_000)))
    assert newer["id"].to_list() == list(range(9_501, 10_001))
    (tmp_path / "empty.parquet").write_bytes(b"")
    with pytest.raises(ConnectorError, match="The source is empty: .*empty.parquet has no data"):
        read_all({"path": str(tmp_path / "empty.parquet")})
    frame.head(0).write_parquet(tmp_path / "norows.parquet")
    with pytest.raises(ConnectorError, match="norows.parquet has a header but no data rows"):
        read_all({"path": str(tmp_path / "norows.parquet")})
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ConnectorError, match="bad.parquet is not a valid Parquet file"):
        read_all({"path": str(tmp_path / "bad.parquet")})


def test_parquet_json_jsonl_and_gzip(tmp_path: Path) -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "이름": ["가", "나", "다"]})
    frame.write_parquet(tmp_path / "a.parquet")
    assert read_all({"path": str(tmp_path / "a.parquet")})[0].equals(frame)
    (tmp_path / "b.json").write_text(json.dumps(frame.to_dicts(), ensure_ascii=False))
    assert read_all({"path": str(tmp_path / "b.json")})[0].equals(frame)
    (tmp_path / "wrapped.json").write_text(json.dumps({"data": frame.to_dicts()}, ensure_ascii=False))
    assert read_all({"path": str(tmp_path / "wrapped.json")})[0].equals(frame)
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in frame.to_dicts()))
    assert read_all({"path": str(tmp_path / "c.jsonl")})[0].equals(frame)
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(korean_csv("cp949")))
    assert read_all({"path": str(tmp_path / "d.csv.gz")})[0].height == 3

    (tmp_path / "broken.json").write_text('[{"id": 1},\n {"id": 2,,}]')
    with pytest.raises(ConnectorError, match="broken.json line 2 column .*: invalid JSON"):
        read_all({"path": str(tmp_path / "broken.json")})
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n{"id": \n{"id": 3}\n[1]\n')
    with pytest.raises(ConnectorError, match="bad.jsonl line 2: not a JSON object"):
        read_all({"path": str(tmp_path / "bad.jsonl")})
    kept, connector = read_all({"path": str(tmp_path / "bad.jsonl"), "on_bad_rows": "quarantine"})
    assert kept["id"].to_list() == [1, 3] and [q.line for q in connector.quarantined] == [2, 4]
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ConnectorError, match="junk.parquet is not a valid Parquet file"):
        read_all({"path": str(tmp_path / "junk.parquet")})


def test_excel_sheet_and_header_row(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "report.xlsx")
    frame, _ = read_all({"path": str(path), "sheet": "고객", "header_row": 3})
    assert frame.columns == ["id", "이름", "점수"]
    assert frame["이름"].to_list() == [r[0] for r in KOREAN_ROWS] and frame["점수"].to_list() == [1.5, 3.0, 4.5]
    by_number, _ = read_all({"path": str(path), "sheet": 2, "header_row": "3"})
    assert by_number.equals(frame)
    with pytest.raises(ConnectorError, match="has no sheet named 'Sheet9'; sheets are 표지, 고객"):
        read_all({"path": str(path), "sheet": "Sheet9"})
    with pytest.raises(ConnectorError, match="has 2 sheet\\(s\\); sheet 5 does not exist"):
        read_all({"path": str(path), "sheet": 5})
    with pytest.raises(ConnectorError, match="header_row must be 1 or more"):
        FileConnector({"path": str(path), "header_row": 0}, {})
    with pytest.raises(ConnectorError, match="sheet '고객' row 2 is empty; set header_row"):
        read_all({"path": str(path), "sheet": "고객", "header_row": 2})
    book = openpyxl.load_workbook(path)
    book["고객"]["B3"] = None
    book.save(path)
    with pytest.raises(ConnectorError, match="sheet '고객' row 3: column 2 has an empty name"):
        read_all({"path": str(path), "sheet": "고객", "header_row": 3})


def test_folder_glob_and_mismatched_files(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    (folder / "2024").mkdir(parents=True)
    (folder / "a.csv").write_bytes(korean_csv("cp949"))
    (folder / "2024" / "b.csv").write_bytes(korean_csv("utf-8", bom=True))
    (folder / "readme.md").write_text("ignored")
    frame, _ = read_all({"path": str(folder)})
    assert frame.height == 6
    only_top, _ = read_all({"path": str(folder / "*.csv")})
    assert only_top.height == 3
    (folder / "c.csv").write_bytes(b"other,columns\n1,2\n")
    with pytest.raises(ConnectorError, match=r"c.csv does not have the columns of .*b.csv: missing 이름, 나이, 주소"):
        read_all({"path": str(folder)})


def test_fsspec_memory_url_with_watermark() -> None:
    root = f"memory://exports-{uuid.uuid4().hex[:8]}"
    for day in (1, 2):
        with fsspec.open(f"{root}/day{day}.csv", "wb") as handle:
            handle.write(f"id,day,이름\n{day * 10 + 1},{day},가\n{day * 10 + 2},{day},나\n".encode("cp949"))
    connector = FileConnector({"path": f"{root}/*.csv", "watermark_column": "id"}, {})
    assert [p.rsplit("/", 1)[-1] for p in connector.list_files()] == ["day1.csv", "day2.csv"]
    assert "2 file(s) found" in connector.test()
    first = pl.concat(list(connector.read()))
    assert first["id"].to_list() == [11, 12, 21, 22] and connector.new_watermark(first) == "22"
    with fsspec.open(f"{root}/day3.csv", "wb") as handle:
        handle.write("id,day,이름\n31,3,다\n".encode("cp949"))
    newer = pl.concat(list(connector.read(watermark="22")))
    assert newer["id"].to_list() == [31]
    missing = FileConnector({"path": str(Path("/nonexistent") / "x.csv"), "watermark_column": "nope"}, {})
    with pytest.raises(ConnectorError, match="does not exist"):
        missing.test()


def test_settings_are_validated() -> None:
    with pytest.raises(ConnectorError, match="needs a path"):
        FileConnector({}, {})
    with pytest.raises(ConnectorError, match="Unknown file connector setting\\(s\\) pathh"):
        FileConnector({"pathh": "x"}, {})
    with pytest.raises(ConnectorError, match="format must be one of"):
        FileConnector({"path": "x", "format": "xls"}, {})
    with pytest.raises(ConnectorError, match="delimiter must be one character"):
        FileConnector({"path": "x", "delimiter": ";;"}, {})
    settings, secrets = FileConnector.split_secrets({"path": "s3://b/x", "storage_options": {"key": "k"}}, {})
    assert settings == {"path": "s3://b/x"} and secrets == {"storage_options": {"key": "k"}}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx", "json", "jsonl"])
def test_conformance_kit_passes_for_every_format(tmp_path: Path, fmt: str) -> None:
    frame = pl.DataFrame({"id": [1, 2, 3, 4, 5], "name": ["가", "나", "다", "라", "마"]})
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        frame.write_csv(path)
    elif fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "xlsx":
        book = openpyxl.Workbook()
        for row in [frame.columns, *frame.rows()]:
            book.active.append(list(row))
        book.save(path)
    elif fmt == "json":
        frame.write_json(path)
    else:
        frame.write_ndjson(path)
    check_connector(FileConnector, {"path": str(path), "watermark_column": "id"}, local_source=True)
