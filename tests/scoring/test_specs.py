"""Scoring sources and outputs are one typed union per side, keyed on `kind`, stored as the JSON they came from."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.errors import InvalidInput
from mlpilot.scoring.specs import FileOutput, FileSource, SqlOutput, SqlSource, parse_output, parse_source, stored

SOURCES = [
    ({"kind": "sql", "url": "postgresql+psycopg://bi@db/sales", "table": "public.customers"}, SqlSource),
    ({"kind": "sql", "url": "sqlite:////data/x.db", "query": "SELECT * FROM t ORDER BY id", "password": "pw",
      "watermark_column": "updated_at"}, SqlSource),
    ({"kind": "file", "path": "/data/in/*.csv", "format": "csv", "encoding": "cp949", "delimiter": ";",
      "header": True, "on_bad_rows": "quarantine"}, FileSource),
    ({"kind": "file", "path": "/data/book.xlsx", "sheet": "2024", "header_row": 3}, FileSource),
]
OUTPUTS = [
    ({"kind": "sql", "url": "mysql+pymysql://root@127.0.0.1/test", "table": "scores", "password": "pw"}, SqlOutput),
    ({"kind": "file", "path": "/data/out/scores.parquet"}, FileOutput),
    ({"kind": "file", "path": "/data/out/scores.txt", "format": "csv"}, FileOutput),
]


@pytest.mark.parametrize(("raw", "kind"), SOURCES)
def test_every_source_kind_round_trips_to_the_stored_json(raw: dict[str, object], kind: type) -> None:
    spec = parse_source(raw)
    assert isinstance(spec, kind) and stored(spec) == raw


@pytest.mark.parametrize(("raw", "kind"), OUTPUTS)
def test_every_output_kind_round_trips_to_the_stored_json(raw: dict[str, object], kind: type) -> None:
    spec = parse_output(raw)
    assert isinstance(spec, kind) and stored(spec) == raw


@pytest.mark.parametrize(("parse", "raw", "message"), [
    (parse_source, {"kind": "ftp", "path": "x"}, r"source\.kind: must be 'sql' or 'file'"),
    (parse_source, {"path": "x"}, r"source\.kind: is required"),
    (parse_source, {"kind": "sql"}, r"source\.url: is required"),
    (parse_source, {"kind": "file", "path": "x", "headr": True}, r"source\.headr: is not a setting of this kind"),
    (parse_source, {"kind": "file", "path": "x", "header_row": 0}, r"source\.header_row: input should be greater"),
    (parse_source, {"kind": "file", "path": "x" * 5000}, r"source\.path: string should have at most 4096"),
    (parse_output, {"kind": "sql", "url": "sqlite://"}, r"output\.table: is required"),
    (parse_output, {"kind": "sql", "url": "sqlite://", "table": "x; drop"}, r"output\.table: string should match"),
    (parse_output, {"kind": "file", "path": "o.csv", "format": "xlsx"}, r"output\.format: input should be 'csv'"),
    (parse_output, "not an object", r"output: "),
])
def test_bad_specs_name_the_field(parse: object, raw: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse(raw)  # type: ignore[operator]


def test_the_api_documents_each_kind_and_answers_422_naming_the_field(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    create = schemas["ScoringRunCreate"]["properties"]
    for side, kinds in (("source", {"sql": "SqlSource", "file": "FileSource"}),
                        ("output", {"sql": "SqlOutput", "file": "FileOutput"})):
        mapping = create[side]["discriminator"]["mapping"]
        assert {k: v.rsplit("/", 1)[-1] for k, v in mapping.items()} == kinds
    answer = client.post("/api/v1/scoring/runs", json={
        "model_path": "/nowhere", "source": {"kind": "file", "path": "x.csv"}, "output": {"kind": "s3", "path": "x"}})
    assert answer.status_code == 422, answer.text
    assert "output" in answer.text and "'sql', 'file'" in answer.text
