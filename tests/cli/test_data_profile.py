"""`mlpilot data profile FILE`: offline profiling of files (no server), JSON and HTML output, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from mlpilot.cli.main import app

runner = CliRunner()


def _frame(rows: int = 120) -> pl.DataFrame:
    return pl.DataFrame({
        "고객번호": [f"K{i:04d}" for i in range(rows)],
        "도시": [("서울", "부산", "대구")[i % 3] for i in range(rows)],
        "금액": [float(i % 37) * 1.5 for i in range(rows)],
        "가입일": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(rows)],
        "이탈": [("yes" if i % 4 == 0 else "no") for i in range(rows)],
    })


def test_profiles_a_cp949_csv_to_json_and_html(tmp_path: Path) -> None:
    source = tmp_path / "고객.csv"
    text = _frame().write_csv(separator=";")
    source.write_bytes(text.encode("cp949"))
    out, html = tmp_path / "profile.json", tmp_path / "report.html"
    result = runner.invoke(app, ["data", "profile", str(source), "--out", str(out), "--html", str(html),
                                 "--target", "이탈"])
    assert result.exit_code == 0, result.output
    profile = json.loads(out.read_text(encoding="utf-8"))
    columns = {c["name"]: c for c in profile["column_profiles"]}
    assert profile["rows"] == 120 and profile["mode"] == "full" and profile["source"]["file"] == "고객.csv"
    assert columns["도시"]["text_length"]["max"] == 2 and columns["도시"]["top_values"][0]["count"] == 40
    assert profile["target"]["task"] == "classification"
    codes = {(w["code"], w["column"]) for w in profile["warnings"]}
    assert ("id_like", "고객번호") in codes and ("dates_as_text", "가입일") in codes
    report = html.read_text(encoding="utf-8")
    assert "Data quality report" in report and "고객번호" in report and "<svg" in report and "<script" not in report


def test_large_file_streams_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "data.parquet"
    _frame(rows=3_000).write_parquet(source)
    result = runner.invoke(app, ["data", "profile", str(source), "--max-full-rows", "1000", "--out",
                                 str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    profile = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert profile["mode"] == "streaming" and profile["rows"] == 3_000 and profile["sample_rows"] > 0
    assert {c["name"]: c for c in profile["column_profiles"]}["금액"]["missing"] == 0
    sampled = runner.invoke(app, ["data", "profile", str(source), "--sample", "500"])
    assert sampled.exit_code == 0 and json.loads(sampled.stdout)["mode"] == "sampled"


def test_late_type_change_in_csv_is_reinferred(tmp_path: Path) -> None:
    source = tmp_path / "late.csv"
    lines = ["id,value"] + [f"{i},{i}" for i in range(12_000)] + ["12000,not a number"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["data", "profile", str(source)])
    assert result.exit_code == 0, result.output
    value = {c["name"]: c for c in json.loads(result.stdout)["column_profiles"]}["value"]
    assert value["inferred_type"] == "mixed" and value["non_numeric_examples"] == ["not a number"]


def test_bad_input_exits_with_a_message(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["data", "profile", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["data", "profile", str(empty)])
    assert result.exit_code == 1 and "empty" in result.output
    source = tmp_path / "d.csv"
    source.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    result = runner.invoke(app, ["data", "profile", str(source), "--target", "label"])
    assert result.exit_code == 1 and "target column 'label' is not in the table" in result.output
    odd = tmp_path / "d.xml"
    odd.write_text("<a/>", encoding="utf-8")
    result = runner.invoke(app, ["data", "profile", str(odd)])
    assert result.exit_code == 1 and "unsupported file type" in result.output
