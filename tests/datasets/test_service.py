"""Parsing, profiling and the datasets service, below the HTTP layer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.orm import Session

from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.runtime import Runtime
from mlpilot.datasets import service
from mlpilot.datasets.ingest import parse_upload, sniff_delimiter
from mlpilot.datasets.profiling import HISTOGRAM_BINS, profile_frame
from tests.datasets.factories import make_version
from tests.projects.factories import make_project, make_user


def test_sniffing_and_parsing_text_variants() -> None:
    assert sniff_delimiter("a;b;c\n1;2;3\n") == ";"
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
    assert sniff_delimiter('name,note\n"x","a;b;c"\n') == ","
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
        assert service.project_summary(session, project_id=project.id) == {"datasets": []}
        frame = pl.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "a"]})
        first = make_version(session, runtime, project_id=project.id, user_id=user.id, frame=frame)
        second = make_version(session, runtime, project_id=project.id, user_id=user.id, frame=pl.concat([frame] * 2))
        summary = service.project_summary(session, project_id=project.id)
        assert [(d["name"], d["version"], d["rows"], d["columns"]) for d in summary["datasets"]] == [("data", 2, 6, 2)]
        columns = summary["datasets"][0]["profile"]["columns"]
        assert set(columns[0]) == {"name", "dtype", "missing_pct", "distinct", "min", "max", "mean", "top_values"}
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
