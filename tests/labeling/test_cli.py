"""The fixed offline contract: `mlpilot label agreement FILE --item --annotator --label [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import krippendorff
import numpy as np
import polars as pl
import pytest
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from mlpilot.cli.main import app

runner = CliRunner()
ROWS = {
    "task": [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5],
    "rater": ["kim", "lee", "park"] * 4 + ["kim", "lee"],
    "answer": ["pos", "pos", "neg", "neg", "neg", "neg", "pos", "pos", "pos", "neg", "pos", "neg", "pos", "neg"],
}
ARGS = ["--item", "task", "--annotator", "rater", "--label", "answer"]


@pytest.fixture(params=["csv", "parquet"])
def label_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"labels.{request.param}"
    frame = pl.DataFrame(ROWS)
    frame.write_csv(path) if request.param == "csv" else frame.write_parquet(path)
    return path


def test_json_output_has_the_contract_keys_and_library_values(label_file: Path) -> None:
    result = runner.invoke(app, ["label", "agreement", str(label_file), *ARGS, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"fleiss_kappa", "krippendorff_alpha", "cohen_kappa", "per_annotator", "n_items",
                           "n_annotators"}
    assert (report["n_items"], report["n_annotators"]) == (5, 3)
    codes = {"neg": 0, "pos": 1}
    matrix = np.full((3, 5), np.nan)
    for task, rater, answer in zip(*ROWS.values(), strict=True):
        matrix[["kim", "lee", "park"].index(rater), task - 1] = codes[answer]
    assert report["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(reliability_data=matrix,
                                                                            level_of_measurement="nominal"))
    first = report["cohen_kappa"][0]
    assert (first["annotator_a"], first["annotator_b"], first["n_items"]) == ("kim", "lee", 5)
    assert first["kappa"] == pytest.approx(cohen_kappa_score(matrix[0], matrix[1]))
    assert set(report["per_annotator"][0]) == {"annotator", "agreement_with_consensus", "n_items"}
    # Item 5 has two raters: Fleiss uses the four items with three, and says so.
    assert "4 of 5 items" in result.stderr


def test_table_output_is_readable(label_file: Path) -> None:
    result = runner.invoke(app, ["label", "agreement", str(label_file), *ARGS])
    assert result.exit_code == 0, result.output
    assert "Fleiss' kappa" in result.stdout and "Krippendorff" in result.stdout and "park" in result.stdout


def test_errors_name_the_file_or_column(tmp_path: Path, label_file: Path) -> None:
    missing = runner.invoke(app, ["label", "agreement", str(tmp_path / "nope.csv"), *ARGS])
    assert missing.exit_code != 0 and "nope.csv" in missing.stderr
    column = runner.invoke(app, ["label", "agreement", str(label_file), "--item", "task", "--annotator", "who",
                                 "--label", "answer"])
    assert column.exit_code != 0 and "'who'" in column.stderr
    single = tmp_path / "single.csv"
    single.write_text("task,rater,answer\n1,kim,pos\n2,kim,neg\n")
    alone = runner.invoke(app, ["label", "agreement", str(single), *ARGS, "--json"])
    assert alone.exit_code != 0 and "at least 2" in alone.stderr and alone.stdout == ""
