"""Parsing, profiling and the datasets service, below the HTTP layer."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.orm import Session

from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import lake, service
from mlpilot.datasets.connectors.encoding import sniff_delimiter
from mlpilot.datasets.ingest import parse_upload
from mlpilot.datasets.profiling import HISTOGRAM_BINS, profile_frame
from tests.datasets.factories import make_version
from tests.projects.factories import make_project, make_user


def test_sniffing_and_parsing_text_variants() -> None:
    assert sniff_delimiter("a;b;c\n1;2;3\n", source="t") == ";"
    assert sniff_delimiter("a\tb\n1\t2\n", source="t") == "\t"
    assert sniff_delimiter('name,note\n"x","a;b;c"\n', source="t") == ","
    parsed = parse_upload("x.csv", '\ufeffcity,n\n"Seoul, KR",3\n부산,NA\n'.encode())
    assert parsed.frame.columns == ["city", "n"] and parsed.frame["city"].to_list() == ["Seoul, KR", "부산"]
    assert parsed.frame["n"].null_count() == 1 and parsed.source_format == "csv"
    with pytest.raises(InvalidInput, match="line 4: expected 2 fields"):
        parse_upload("x.csv", b"a,b\n1,2\n3,4\n5,6,7\n")


def test_profile_counts_missing_values_and_bins_every_value() -> None:
    frame = pl.DataFrame({
        "num": [1.0, 2.0, None, float("nan"), 10.0],
        "cat": ["a", "b", "a", None, "a"],
        "flag": [True, False, True, True, None],
        "n": [1, 1, 2, 3, 3],
    })
    profile = profile_frame(frame)
    json.dumps(profile)  # plain JSON, no NaN objects or Polars types
    cols = {c["name"]: c for c in profile["column_profiles"]}
    assert profile["rows"] == 5 and profile["columns"] == 4 and profile["duplicate_rows"] == 0
    assert cols["num"]["missing"] == 2 and cols["num"]["missing_pct"] == 40.0
    assert (cols["num"]["min"], cols["num"]["max"]) == (1.0, 10.0)
    assert math.isclose(cols["num"]["mean"], 13 / 3)
    assert len(cols["num"]["histogram"]["counts"]) == HISTOGRAM_BINS and sum(cols["num"]["histogram"]["counts"]) == 3
    assert cols["cat"]["top_values"][0] == {"value": "a", "count": 3} and cols["cat"]["kind"] == "categorical"
    assert cols["flag"]["top_values"][0] == {"value": True, "count": 3}
    assert cols["n"]["top_values"] is not None and cols["n"]["histogram"] is not None
    assert profile_frame(pl.concat([frame, frame.head(2)]))["duplicate_rows"] == 2


def test_project_summary_and_reading_versions(live_runtime: Runtime) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        assert service.project_summary(session, project_id=project.id) == []
        frame = pl.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "a"]})
        first = make_version(session, runtime, project_id=project.id, user_id=user.id, frame=frame)
        second = make_version(session, runtime, project_id=project.id, user_id=user.id, frame=pl.concat([frame] * 2))
        summary = service.project_summary(session, project_id=project.id)
        assert [(d.name, d.version, d.rows, d.columns) for d in summary] == [("data", 2, 6, 2)]
        columns = summary[0].profile_columns
        assert columns is not None and [c.name for c in columns] == ["x", "label"]
        assert columns[0].dtype is not None and columns[0].missing_pct == 0 and columns[0].max == 3
        assert service.read_dataset_version_frame(session, store=runtime.store, version_id=first).height == 3
        assert service.read_dataset_version_frame(session, store=runtime.store, version_id=second,
                                                  columns=["label"]).columns == ["label"]
        with pytest.raises(InvalidInput, match="no column"):
            service.read_dataset_version_frame(session, store=runtime.store, version_id=second, columns=["zz"])


def test_rejected_upload_leaves_no_row_and_no_file(session: Session, live_runtime: Runtime) -> None:
    user = make_user(session)
    project = make_project(session, user=user)
    with pytest.raises(InvalidInput, match="duplicate column name 'a'"):
        service.create_dataset_version(session, runtime=live_runtime, project_id=project.id, name="d",
                                       filename="d.csv", data=b"a,a\n1,2\n", user_id=user.id)
    assert service.list_datasets(session, project_id=project.id) == []
    with pytest.raises(NotFound, match="not computed yet|does not exist"):
        service.get_dataset_profile(session, version_id=123456)
    assert not any(p.is_file() for p in Path(live_runtime.store.root).rglob("*"))


KILLED_INGEST = """
import sys, time
from pathlib import Path
import polars as pl
from polars.io.plugins import register_io_source
from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service
from mlpilot.settings import Settings

data_dir, database_url, project_id, user_id, marker = sys.argv[1:]
runtime = Runtime.from_settings(Settings(data_dir=Path(data_dir), database_url=database_url))

def batches(*_):
    for start in range(0, 400_000, 100_000):
        yield pl.DataFrame({"x": list(range(start, start + 100_000))})
    Path(marker).write_text("mid-ingest")  # the writer has consumed data but cannot have committed
    time.sleep(600)

frame = register_io_source(batches, schema={"x": pl.Int64})
with session_scope(runtime.sessions) as session:
    service.create_dataset_version_from_frame(session, runtime=runtime, project_id=int(project_id),
                                              name="events", frame=frame, user_id=int(user_id),
                                              lineage={"source": "connection:legacy"})
"""


def _ingest(session: Session, runtime: Runtime, project_id: int, user_id: int | None,
            frame: pl.DataFrame | pl.LazyFrame, name: str = "events") -> int:
    version, _ = service.create_dataset_version_from_frame(
        session, runtime=runtime, project_id=project_id, name=name, frame=frame, user_id=user_id,
        lineage={"source": "connection:legacy", "connector": "sql", "rows_in": None})
    return version.id


def test_killed_ingest_leaves_no_version_and_the_next_ingest_works(live_runtime: Runtime, tmp_path: Path) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        first = pl.DataFrame({"x": [1, 2, 3]})
        first_id = _ingest(session, runtime, project.id, user.id, first)
        key = service.get_dataset_version(session, version_id=first_id).storage_key
        ids = (project.id, user.id)

    marker = tmp_path / "marker"
    settings = runtime.settings
    proc = subprocess.Popen([sys.executable, "-c", KILLED_INGEST, str(settings.data_dir), settings.database_url,
                             str(ids[0]), str(ids[1]), str(marker)], stderr=subprocess.PIPE)
    try:
        for _ in range(1200):
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), proc.stderr.read().decode() if proc.poll() is not None else "no marker"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()

    with session_scope(runtime.sessions) as session:
        dataset = service.find_dataset(session, project_id=ids[0], name="events")
        assert [v.version for v in service.get_dataset(session, dataset_id=dataset.id).versions] == [1]
        assert lake.table_versions(runtime.store, key) == [0]
        assert service.read_dataset_version_frame(session, store=runtime.store, version_id=first_id).equals(first)
        second_id = _ingest(session, runtime, ids[0], ids[1], pl.DataFrame({"x": [7, 8]}))
        second = service.get_dataset_version(session, version_id=second_id)
        assert (second.version, second.delta_version, second.row_count) == (2, 1, 2)
        assert service.read_dataset_version_frame(session, store=runtime.store, version_id=second_id)["x"].to_list() \
            == [7, 8]
        # Whatever the killed writer had flushed was swept by the next write: every data file is referenced.
        assert lake.sweep_unreferenced_files(runtime.store, key) == []


def test_failed_metadata_commit_hides_the_delta_version(session: Session, live_runtime: Runtime) -> None:
    runtime = live_runtime
    user = make_user(session)
    project = make_project(session, user=user)
    first_id = _ingest(session, runtime, project.id, user.id, pl.DataFrame({"x": [1, 2]}))
    key = service.get_dataset_version(session, version_id=first_id).storage_key
    missing_user = 987654  # the version row's foreign key fails after the Delta commit succeeded
    with pytest.raises(Conflict):
        _ingest(session, runtime, project.id, missing_user, pl.DataFrame({"x": [9]}))
    assert lake.table_versions(runtime.store, key) == [0, 1]  # Delta cannot un-commit ...
    dataset = service.find_dataset(session, project_id=project.id, name="events")
    assert [v.id for v in service.get_dataset(session, dataset_id=dataset.id).versions] == [first_id]  # ... unseen
    next_id = _ingest(session, runtime, project.id, user.id, pl.DataFrame({"x": [5, 6, 7]}))
    nxt = service.get_dataset_version(session, version_id=next_id)
    assert (nxt.version, nxt.delta_version) == (2, 2)
    read = service.read_dataset_version_frame
    assert read(session, store=runtime.store, version_id=first_id)["x"].to_list() == [1, 2]
    assert read(session, store=runtime.store, version_id=next_id)["x"].to_list() == [5, 6, 7]

    # A new dataset whose first metadata commit fails leaves no table at all.
    with pytest.raises(Conflict):
        _ingest(session, runtime, project.id, missing_user, pl.DataFrame({"x": [1]}), name="fresh")
    assert service.find_dataset(session, project_id=project.id, name="fresh") is None
    tables = {p.name for p in Path(runtime.store.root, "datasets", str(project.id)).iterdir()}
    assert tables == {Path(key).name, Path(key).name + ".lock"}


def test_failing_frame_leaves_nothing(session: Session, live_runtime: Runtime) -> None:
    user = make_user(session)
    project = make_project(session, user=user)
    bad = pl.LazyFrame({"x": ["1", "oops"]}).with_columns(pl.col("x").cast(pl.Int64))
    with pytest.raises(InvalidInput, match="'events' could not be written: conversion from `str` to `i64`"):
        _ingest(session, live_runtime, project.id, user.id, bad)
    assert service.list_datasets(session, project_id=project.id) == []
    assert not any(p.is_file() for p in Path(live_runtime.store.root).rglob("*"))
    first_id = _ingest(session, live_runtime, project.id, user.id, pl.DataFrame({"x": [1]}))
    with pytest.raises(InvalidInput, match="could not be written"):
        _ingest(session, live_runtime, project.id, user.id, bad)
    dataset = service.find_dataset(session, project_id=project.id, name="events")
    assert [v.id for v in service.get_dataset(session, dataset_id=dataset.id).versions] == [first_id]
    empty = pl.DataFrame({"x": []}, schema={"x": pl.Int64})
    for nothing in (empty, empty.lazy(), bad.lazy().head(0).select(pl.col("x").cast(pl.String))):
        with pytest.raises(InvalidInput, match="has no rows or no columns"):
            _ingest(session, live_runtime, project.id, user.id, nothing)
    with pytest.raises(InvalidInput, match="Lineage needs a 'source'"):
        service.create_dataset_version_from_frame(session, runtime=live_runtime, project_id=project.id, name="e",
                                                  frame=pl.DataFrame({"x": [1]}), lineage={}, user_id=user.id)
    assert len(service.list_project_versions(session, project_id=project.id)) == 1


def test_concurrent_ingests_of_one_dataset_both_become_versions(live_runtime: Runtime) -> None:
    runtime = live_runtime
    with session_scope(runtime.sessions) as session:
        user = make_user(session)
        project = make_project(session, user=user)
        _ingest(session, runtime, project.id, user.id, pl.DataFrame({"x": [0]}))
        ids = (project.id, user.id)

    def ingest(value: int) -> int:
        with session_scope(runtime.sessions) as session:
            return _ingest(session, runtime, ids[0], ids[1], pl.DataFrame({"x": [value] * 1000}))

    with ThreadPoolExecutor(max_workers=2) as pool:
        version_ids = list(pool.map(ingest, [1, 2]))
    with session_scope(runtime.sessions) as session:
        versions = [service.get_dataset_version(session, version_id=v) for v in version_ids]
        assert sorted((v.version, v.delta_version) for v in versions) == [(2, 1), (3, 2)]
        for value, version in zip([1, 2], versions, strict=True):
            frame = service.read_dataset_version_frame(session, store=runtime.store, version_id=version.id)
            assert frame["x"].unique().to_list() == [value]


def test_new_dataset_table_goes_when_the_callers_unit_of_work_fails(session: Session, live_runtime: Runtime) -> None:
    user = make_user(session)
    project = make_project(session, user=user)
    with pytest.raises(InvalidInput, match="watermark could not be stored"):
        with unit_of_work(session):
            _ingest(session, live_runtime, project.id, user.id, pl.DataFrame({"x": [1]}), name="nested")
            raise InvalidInput("The watermark could not be stored.")  # a later step of the caller's use case
    assert service.find_dataset(session, project_id=project.id, name="nested") is None
    assert not any(p.name.endswith(".delta") for p in Path(live_runtime.store.root).rglob("*"))
    with unit_of_work(session):
        kept = _ingest(session, live_runtime, project.id, user.id, pl.DataFrame({"x": [2]}), name="nested")
    assert service.read_dataset_version_frame(session, store=live_runtime.store, version_id=kept)["x"].to_list() == [2]
