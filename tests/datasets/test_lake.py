"""The Delta Lake storage layer: versions, time travel, type mapping and what failed or killed writes leave."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.io.plugins import register_io_source

from mlpilot.core.errors import InvalidInput
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import lake

KEY = "datasets/1/table.delta"


def _data_files(store: ArtifactStore, key: str = KEY) -> list[str]:
    root = Path(store.root, key)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet") if "_delta_log" not in p.parts)


def test_versions_time_travel_and_schema_changes(store: ArtifactStore) -> None:
    first = pl.DataFrame({"고객 id": [1, 2, 3], "total day minutes": [1.5, None, 3.0], "city": ["서울", "부산", None]})
    second = pl.DataFrame({"고객 id": ["a", "b"], "flag": [True, False]})
    v0 = lake.write_version(store, KEY, first)
    v1 = lake.write_version(store, KEY, second)
    assert (v0.delta_version, v0.rows, v1.delta_version, v1.rows) == (0, 3, 1, 2)
    assert v0.schema == [{"name": "고객 id", "dtype": "Int64"}, {"name": "total day minutes", "dtype": "Float64"},
                         {"name": "city", "dtype": "String"}]
    assert [c["dtype"] for c in v1.schema] == ["String", "Boolean"] and v1.size_bytes > 0 and v1.files == 1
    # Time travel: the older version keeps its own schema and rows after the overwrite.
    assert lake.scan_version(store, KEY, 0).collect().equals(first)
    assert lake.scan_version(store, KEY, 1).collect().equals(second)
    assert lake.table_versions(store, KEY) == [0, 1]
    assert lake.describe_version(store, KEY, 0) == v0


def test_row_order_survives_many_files_and_streaming(store: ArtifactStore) -> None:
    frame = pl.DataFrame({"i": pl.int_range(0, 60_000, eager=True).reverse(), "s": ["x", "yy", "zzz"] * 20_000})
    written = lake.write_version(store, KEY, frame, rows_per_file=7_000)
    assert written.files == 9 and written.rows == 60_000
    assert lake.scan_version(store, KEY, 0).collect().equals(frame)
    # A streamed LazyFrame written as many files reads back in exactly the order it was produced.
    expected = frame.filter(pl.col("i") % 2 == 0)
    streamed = lake.write_version(store, KEY, frame.lazy().filter(pl.col("i") % 2 == 0), rows_per_file=1_000)
    assert streamed.files == 30 and streamed.rows == 30_000
    assert lake.scan_version(store, KEY, streamed.delta_version).collect().equals(expected)
    # Streaming a multi-file source (a previous version) keeps the order too, and so does time travel.
    again = lake.write_version(store, KEY, lake.scan_version(store, KEY, streamed.delta_version).reverse(),
                               rows_per_file=4_000)
    assert lake.scan_version(store, KEY, again.delta_version).collect().equals(expected.reverse())
    assert lake.scan_version(store, KEY, 0).collect().equals(frame)


def test_row_order_survives_a_checkpoint(store: ArtifactStore) -> None:
    # delta-rs writes a checkpoint every 100 commits; versions read from it keep their files' order too.
    frames = [pl.DataFrame({"i": pl.int_range(0, 30, eager=True).reverse() + 1_000 * v}) for v in range(101)]
    for frame in frames:
        lake.write_version(store, KEY, frame, rows_per_file=7)
    assert Path(store.root, KEY, "_delta_log", "00000000000000000099.checkpoint.parquet").is_file()
    for version in (0, 98, 99, 100):
        assert lake.scan_version(store, KEY, version).collect().equals(frames[version])


def test_types_delta_cannot_store_are_mapped() -> None:
    frame = pl.DataFrame({
        "cat": pl.Series(["a", "b"], dtype=pl.Categorical), "nothing": [None, None],
        "t": [dt.time(10, 0), dt.time(11, 30)], "u": pl.Series([1, 4_000_000_000], dtype=pl.UInt32),
        "dur": [dt.timedelta(seconds=1), dt.timedelta(milliseconds=5)],
    })
    mapped = lake.delta_compatible(frame.lazy()).collect()
    assert mapped.schema == pl.Schema({"cat": pl.String, "nothing": pl.String, "t": pl.String, "u": pl.Int64,
                                       "dur": pl.Int64})
    assert mapped["u"].to_list() == [1, 4_000_000_000] and mapped["dur"].to_list() == [1_000_000, 5_000]
    with pytest.raises(InvalidInput, match="Column 'o' holds Python objects"):
        lake.delta_compatible(pl.DataFrame({"o": pl.Series([object()], dtype=pl.Object)}).lazy())


def test_timestamps_dates_nested_and_empty_versions_round_trip(store: ArtifactStore) -> None:
    seoul = pl.Series([dt.datetime(2024, 3, 1, 9, 30)]).dt.replace_time_zone("Asia/Seoul").dt.cast_time_unit("ns")
    plain = lake.write_version(store, KEY, pl.DataFrame({"n": [1]}))
    # A later version with a naive timestamp needs a newer Delta protocol than the first version had.
    frame = pl.DataFrame({"at": [dt.datetime(2024, 3, 1, 9, 30, 0, 123456)], "seoul": seoul,
                          "day": [dt.date(2024, 3, 1)], "tags": [["a", "b"]], "pair": [{"k": 1, "v": "서울"}],
                          "amount": pl.Series(["1.25"]).str.to_decimal(scale=2)})
    stamped = lake.write_version(store, KEY, frame)
    back = lake.scan_version(store, KEY, stamped.delta_version).collect()
    assert back.schema["at"] == pl.Datetime("us") and back.schema["seoul"] == pl.Datetime("us", "UTC")
    assert back["seoul"].to_list()[0] == dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.UTC)
    assert back.drop("seoul").equals(frame.drop("seoul"))
    empty = lake.write_version(store, KEY, pl.DataFrame({"n": []}, schema={"n": pl.Int64}))
    assert empty.rows == 0 and lake.scan_version(store, KEY, empty.delta_version).collect().is_empty()
    assert lake.scan_version(store, KEY, plain.delta_version).collect()["n"].to_list() == [1]
    assert lake.table_versions(store, KEY) == [0, 1, 2]


def test_failing_write_commits_nothing_and_leaves_no_files(store: ArtifactStore) -> None:
    bad = pl.LazyFrame({"amount": ["1", "2", "three"]}).with_columns(pl.col("amount").cast(pl.Int64))
    # A new table whose first write fails disappears entirely.
    with pytest.raises(InvalidInput, match="could not be written: conversion from `str` to `i64` failed"):
        lake.write_version(store, KEY, bad, label="sales")
    assert lake.table_versions(store, KEY) == [] and not Path(store.root, KEY).exists()

    good = pl.DataFrame({"amount": [1, 2]})
    lake.write_version(store, KEY, good)
    files_before = _data_files(store)

    def batches(*_: object) -> object:
        yield pl.DataFrame({"amount": list(range(50_000))})
        raise RuntimeError("source connection dropped")

    failing = register_io_source(batches, schema={"amount": pl.Int64})
    with pytest.raises(InvalidInput, match="source connection dropped"):
        lake.write_version(store, KEY, failing, label="sales")
    assert lake.table_versions(store, KEY) == [0] and _data_files(store) == files_before
    assert lake.scan_version(store, KEY, 0).collect().equals(good)
    assert lake.write_version(store, KEY, good).delta_version == 1


def test_sweep_removes_only_files_no_version_references(store: ArtifactStore) -> None:
    lake.write_version(store, KEY, pl.DataFrame({"a": [1]}))
    lake.write_version(store, KEY, pl.DataFrame({"a": [2]}))
    referenced = _data_files(store)
    assert len(referenced) == 2  # the overwritten version's file stays for time travel
    stray = Path(store.root, KEY, "part-00000-dead-c000.snappy.parquet")
    stray.write_bytes(b"half a file from a killed writer")
    assert lake.sweep_unreferenced_files(store, KEY) == [stray.name]
    assert _data_files(store) == referenced
    assert lake.scan_version(store, KEY, 0).collect()["a"].to_list() == [1]


def test_remote_stores_need_a_delta_capable_scheme(tmp_path: Path) -> None:
    memory = ArtifactStore("memory://mlpilot-lake-test", tmp_path / "cache")
    with pytest.raises(InvalidInput, match="need a local folder or an s3/"):
        lake.table_uri(memory, KEY)
