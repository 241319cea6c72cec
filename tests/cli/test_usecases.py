"""`mlpilot usecases list`: the fixed JSON contract, filters, search and bad input — read locally, no server."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mlpilot.cli.main import app
from mlpilot.usecases import catalog

runner = CliRunner()
CONTRACT_KEYS = {"key", "title", "industry", "task", "difficulty", "kpis", "blueprint"}


def test_list_json_prints_every_use_case_with_the_contract_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # No server and no token: the catalog ships with the package.
    monkeypatch.delenv("MLPILOT_TOKEN", raising=False)
    monkeypatch.setenv("MLPILOT_URL", "http://127.0.0.1:9")
    result = runner.invoke(app, ["usecases", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and len(rows) == len(catalog.list_usecases()) >= 30
    for row in rows:
        assert CONTRACT_KEYS <= set(row)
        assert isinstance(row["title"], str) and isinstance(row["kpis"], list) and row["kpis"]
    churn = next(r for r in rows if r["key"] == "churn-prediction")
    assert churn == {**churn, "title": "Churn prediction", "industry": "telecom", "task": "binary",
                     "difficulty": "easy", "blueprint": "churn-binary"}


def test_list_filters_searches_and_speaks_korean() -> None:
    result = runner.invoke(app, ["usecases", "list", "--json", "--search", "이탈", "--lang", "ko"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["key"] for r in rows] == ["churn-prediction"]
    assert rows[0]["title"] == "고객 이탈 예측" and "이탈률" in rows[0]["kpis"]
    energy = json.loads(runner.invoke(app, ["usecases", "list", "--json", "--industry", "energy",
                                            "--task", "regression", "--difficulty", "easy"]).stdout)
    assert [r["key"] for r in energy] == ["building-energy-consumption"]
    table = runner.invoke(app, ["usecases", "list", "--industry", "logistics"])
    assert table.exit_code == 0 and f"4 of {len(catalog.list_usecases())} use cases" in table.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--industry", "mining"], "Unknown industry 'mining'"),
        (["--task", "clustering"], "Unknown task 'clustering'"),
        (["--lang", "fr"], "--lang must be en or ko"),
        (["--search", "x" * 201], "at most 200"),
    ],
)
def test_bad_options_exit_2_with_the_reason(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["usecases", "list", "--json", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
