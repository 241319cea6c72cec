"""CSV/TSV files above `stream_above_bytes` are streamed: forced here with a 1 KiB threshold, they must read exactly
as the whole-file reader reads them, in several chunks, with the same watermarks, bad-row messages and quarantine."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import fsspec
import polars as pl
import pytest

from mlpilot.connections import service as connections
from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service as datasets_service
from mlpilot.datasets.connectors import ConnectorError
from mlpilot.datasets.connectors.files import FileConnector
from tests.connections.test_service import ingest, versions_of
from tests.datasets.connectors.factories import many_rows_csv
from tests.projects.factories import make_project, make_user

SMALL = 1024


def whole_and_streamed(settings: dict, *, chunk_rows: int = 500, watermark: str | None = None
                       ) -> tuple[pl.DataFrame, list[pl.DataFrame], FileConnector, FileConnector]:
    whole = FileConnector(settings, {})
    streamed = FileConnector({**settings, "stream_above_bytes": SMALL}, {})
    expected = pl.concat(list(whole.read(watermark=watermark)))
    chunks = list(streamed.read(watermark=watermark, chunk_rows=chunk_rows))
    return expected, chunks, whole, streamed


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_large_file_streams_in_chunks_with_the_same_rows(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "customers.csv"
    # 1 KiB blocks cut through multi-byte Korean characters many times over 3,000 rows.
    path.write_bytes(many_rows_csv(encoding))
    assert path.stat().st_size > 50 * SMALL
    expected, chunks, whole, streamed = whole_and_streamed({"path": str(path)})
    assert not whole._streams(str(path)) and streamed._streams(str(path))
    assert len(chunks) >= 6 and all(0 < chunk.height <= 500 for chunk in chunks)
    frame = pl.concat(chunks)
    assert frame.columns == ["id", "이름", "점수", "날짜"]  # no BOM left on the first name
    assert frame.schema == expected.schema and frame.equals(expected)
    assert frame.height == 3000 and frame["이름"][2999] == "고객3000"


def test_types_are_inferred_over_every_streamed_row(tmp_path: Path) -> None:
    # Each chunk alone would infer other types: integers until a float or a code appears, a column empty at first.
    path = tmp_path / "types.csv"
    rows = []
    for i in range(1, 3001):
        code = "A12" if i == 2500 else str(i)
        amount = "1.5" if i == 2900 else str(i)
        late = str(i) if i > 2800 else ""
        rows.append(f"{i},{code},{amount},{late},{'true' if i % 2 else 'false'}\n")
    path.write_text("id,code,amount,late,flag\n" + "".join(rows))
    expected, chunks, _, _ = whole_and_streamed({"path": str(path)}, chunk_rows=400)
    frame = pl.concat(chunks)
    assert dict(frame.schema) == {"id": pl.Int64, "code": pl.String, "amount": pl.Float64, "late": pl.Int64,
                                  "flag": pl.Boolean}
    assert frame.schema == expected.schema and frame.equals(expected)


def test_quoted_fields_and_bad_rows_stream_like_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    body = many_rows_csv("cp949", quoted=True)
    # Malformed rows before and after the first quote: one checked line by line, one by the csv module.
    lines = body.split(b"\r\n")
    lines.insert(3, "99991,짧음".encode("cp949"))
    lines.insert(2000, "99992,너무,많은,필드,수".encode("cp949"))
    path.write_bytes(b"\r\n".join(lines))
    settings = {"path": str(path), "on_bad_rows": "quarantine"}
    expected, chunks, whole, streamed = whole_and_streamed(settings, chunk_rows=400)
    frame = pl.concat(chunks)
    assert len(chunks) >= 2 and frame.equals(expected) and frame.height == 3000
    assert frame.filter(pl.col("id") == 1001)["이름"].item() == "고객1001, 서울\n강남구"
    assert streamed.quarantined == whole.quarantined
    # The second bad row comes after 143 quoted names, each one line longer.
    assert [row.line for row in streamed.quarantined] == [4, 2001 + 143]
    with pytest.raises(ConnectorError, match=r"quoted.csv line 4: expected 4 fields \(like the header\) but found 2"):
        list(FileConnector({"path": str(path), "stream_above_bytes": SMALL}, {}).read())


def test_malformed_row_late_in_a_streamed_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "late.tsv"
    text = "id\tname\n" + "".join(f"{i}\tn{i}\n" for i in range(1, 3001)) + "3001\tx\textra\n"
    path.write_text(text)
    connector = FileConnector({"path": str(path), "stream_above_bytes": SMALL}, {})
    with pytest.raises(ConnectorError, match=r"late.tsv line 3002: expected 2 fields .* but found 3\. Fix the file"):
        list(connector.read(chunk_rows=100))


def test_watermark_filters_streamed_chunks(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(many_rows_csv("cp949"))
    settings = {"path": str(path), "watermark_column": "id"}
    expected, chunks, _, streamed = whole_and_streamed(settings, chunk_rows=300, watermark="2500")
    frame = pl.concat(chunks)
    assert frame.equals(expected) and frame["id"].to_list() == list(range(2501, 3001))
    assert streamed.new_watermark(frame) == "3000"
    missing = FileConnector({"path": str(path), "watermark_column": "nope", "stream_above_bytes": SMALL}, {})
    with pytest.raises(ConnectorError, match="the watermark column 'nope' does not exist"):
        list(missing.read())


def test_encoding_change_after_the_sample_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(many_rows_csv("utf-8") + "9999,김철수,1.0,2024-01-01\r\n".encode("cp949"))
    with pytest.raises(ConnectorError, match=r"mixed.csv line 3002: bytes are not valid utf-8"):
        list(FileConnector({"path": str(path), "stream_above_bytes": SMALL}, {}).read())


def test_legacy_bytes_after_an_ascii_start_are_read_as_cp949(tmp_path: Path) -> None:
    path = tmp_path / "late_korean.csv"
    ascii_rows = "".join(f"{i},name{i}\r\n" for i in range(1, 2001))
    path.write_bytes(f"id,name\r\n{ascii_rows}".encode() + "2001,홍길동\r\n2002,똠방각하\r\n".encode("cp949"))
    expected, chunks, _, _ = whole_and_streamed({"path": str(path)})
    frame = pl.concat(chunks)
    assert len(chunks) >= 2 and frame.equals(expected)
    assert frame["name"].tail(2).to_list() == ["홍길동", "똠방각하"]


def test_gzip_and_fsspec_files_stream(tmp_path: Path) -> None:
    data = many_rows_csv("cp949")
    packed = tmp_path / "customers.csv.gz"
    packed.write_bytes(gzip.compress(data))
    url = f"memory://stream-{uuid.uuid4().hex[:8]}/customers.csv"
    with fsspec.open(url, "wb") as handle:
        handle.write(data)
    for path in (str(packed), url):
        expected, chunks, _, _ = whole_and_streamed({"path": path})
        assert len(chunks) >= 2 and pl.concat(chunks).equals(expected) and expected.height == 3000


def test_stream_setting_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="stream_above_bytes must be a number of bytes; got 'big'"):
        FileConnector({"path": "x.csv", "stream_above_bytes": "big"}, {})
    with pytest.raises(ConnectorError, match="stream_above_bytes must be 1 or more"):
        FileConnector({"path": "x.csv", "stream_above_bytes": 0}, {})
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b" \n" * 2000)
    with pytest.raises(ConnectorError, match="The source is empty: .*blank.csv has no data"):
        list(FileConnector({"path": str(blank), "stream_above_bytes": SMALL}, {}).read())
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(b"a,b\n" + b"\n" * 2000)
    with pytest.raises(ConnectorError, match="header.csv has a header but no data rows"):
        list(FileConnector({"path": str(header_only), "stream_above_bytes": SMALL}, {}).read())


def test_streamed_ingest_is_incremental_and_quarantines(live_runtime: Runtime, tmp_path: Path) -> None:
    runtime = live_runtime
    export = tmp_path / "export.csv"
    lines = many_rows_csv("cp949").split(b"\r\n")
    lines.insert(10, "99999,잘못된".encode("cp949"))
    export.write_bytes(b"\r\n".join(lines))
    settings = {"path": str(export), "stream_above_bytes": SMALL, "watermark_column": "id"}
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        strict = connections.create_connection(session, runtime=runtime, project_id=project.id, name="strict",
                                               kind="file", settings=settings)
        lenient = connections.create_connection(session, runtime=runtime, project_id=project.id, name="lenient",
                                                kind="file", settings={**settings, "on_bad_rows": "quarantine"})
    failed = ingest(runtime, strict.id, "customers", user.id, chunk_rows=700)
    assert failed.state == "failed" and "export.csv line 11: expected 4 fields" in failed.error
    assert versions_of(runtime, project.id, "customers") == []

    job = ingest(runtime, lenient.id, "customers", user.id, chunk_rows=700)
    assert job.state == "succeeded", job.error
    assert job.result["rows_out"] == 3000 and job.result["quarantined_rows"] == 1
    assert job.result["watermark"] == "3000"
    [version] = versions_of(runtime, project.id, "customers")
    side = pl.read_parquet(runtime.store.local_path(version.lineage["quarantine_key"]))
    assert side.row(0, named=True)["line"] == 11 and side["raw"][0] == "99999,잘못된"
    with session_scope(runtime.sessions) as session:
        frame = datasets_service.read_dataset_version_frame(session, store=runtime.store, version_id=version.id)
    expected = pl.concat(list(FileConnector({"path": str(export), "on_bad_rows": "quarantine"}, {}).read()))
    assert frame.sort("id").equals(expected)

    with export.open("ab") as handle:
        handle.write("\r\n".join(f"{i},고객{i},{i * 0.5},2024-01-01" for i in (3001, 3002)).encode("cp949"))
    more = ingest(runtime, lenient.id, "customers", user.id, chunk_rows=700)
    assert more.state == "succeeded", more.error
    assert more.result["rows_out"] == 2 and more.result["watermark"] == "3002"


@pytest.mark.parametrize("encoding", ["utf-8", "cp949"])
def test_json_lines_stream_like_the_whole_file(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "events.jsonl"
    lines = [f'{{"id": {i}, "이름": "고객{i}", "점수": {i if i % 3 else i + 0.5}}}' for i in range(1, 2001)]
    lines[10] = '{"id": 11, "이름": "고객11"}'  # a missing key is a null
    lines.insert(500, "[1, 2]")  # not an object: line 501
    lines.insert(1500, '{"id": broken')  # line 1502
    lines.insert(700, "")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    settings = {"path": str(path), "on_bad_rows": "quarantine"}
    expected, chunks, whole, streamed = whole_and_streamed(settings, chunk_rows=300)
    frame = pl.concat(chunks)
    assert len(chunks) >= 7 and max(c.height for c in chunks) <= 300
    assert frame.schema == expected.schema and frame.equals(expected) and frame.height == 2000
    assert frame.schema["점수"] == pl.Float64 and frame.filter(pl.col("id") == 11)["점수"].item() is None
    assert [row.line for row in streamed.quarantined] == [row.line for row in whole.quarantined] == [501, 1502]
    with pytest.raises(ConnectorError, match=r"events.jsonl line 501: not a JSON object"):
        list(FileConnector({"path": str(path), "stream_above_bytes": SMALL}, {}).read())
