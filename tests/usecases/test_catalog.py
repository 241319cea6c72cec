"""The shipped catalog: coverage, both languages, buildable tasks; schema refusals; filters and search."""

from __future__ import annotations

import copy
import json

import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.training.tasks import TASK_CHOICES
from mlpilot.usecases import catalog
from mlpilot.usecases.catalog import CATALOG_FILE, parse_catalog, search


def _raw() -> list[dict]:
    return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))


def test_shipped_catalog_covers_industries_in_both_languages() -> None:
    entries = catalog.list_usecases()
    assert len(entries) >= 30
    assert {u.industry for u in entries} == set(catalog.INDUSTRIES)
    for u in entries:
        for text in (u.title, u.problem, u.data_needed, u.typical_value, *u.kpis):
            assert text.en.strip() and text.ko.strip(), u.key
            # The Korean text is Korean (Hangul), not a copy of the English one.
            assert any("\uac00" <= ch <= "\ud7a3" for ch in text.ko), (u.key, text.ko)
        assert u.blueprint


def test_every_task_is_buildable_or_says_it_needs_an_outside_engine() -> None:
    assert set(catalog.BUILT_IN_TASKS) <= set(TASK_CHOICES)
    for u in catalog.list_usecases():
        assert u.task in catalog.BUILT_IN_TASKS or (u.task in catalog.OUTSIDE_TASKS and u.needs_outside_engine)
    assert any(u.needs_outside_engine for u in catalog.list_usecases())
    assert not catalog.find_usecase("churn-prediction").needs_outside_engine


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda row: row.update(owner="me"), "field 'owner'"),
        (lambda row: row["title"].pop("ko"), "field 'title.ko'"),
        (lambda row: row["title"].update(fr="Prédiction"), "field 'title.fr'"),
        (lambda row: row.update(industry="mining"), "field 'industry'"),
        (lambda row: row.update(task="clustering"), "field 'task'"),
        (lambda row: row.update(difficulty="trivial"), "field 'difficulty'"),
        (lambda row: row.update(kpis=[]), "field 'kpis'"),
        (lambda row: row.pop("blueprint"), "field 'blueprint'"),
    ],
)
def test_schema_refuses_bad_entries_naming_the_field(change, message: str) -> None:
    rows = copy.deepcopy(_raw())
    change(rows[3])
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_catalog(rows)
    assert f"entry 3 ({rows[3]['key']!r})" in caught.value.detail


def test_schema_refuses_duplicate_keys_and_a_non_list() -> None:
    rows = _raw()
    with pytest.raises(InvalidInput, match="appears twice"):
        parse_catalog([*rows, rows[0]])
    with pytest.raises(InvalidInput, match="JSON list"):
        parse_catalog({"key": "x"})


def test_search_in_korean_and_english_any_case() -> None:
    shipped = catalog.current_catalog()
    assert [u.key for u in search(shipped, query="이탈")] == ["churn-prediction"]
    assert [u.key for u in search(shipped, query="CHURN prediction")] == ["churn-prediction"]
    demand = {u.key for u in search(shipped, query="수요")}
    assert "demand-forecasting" in demand and "energy-load-forecasting" in demand
    # Every word must occur; KPIs are searched too.
    assert {u.key for u in search(shipped, query="mape retail")} == {"demand-forecasting", "store-sales-forecasting"}
    assert search(shipped, query="zzz-nothing") == []
    assert len(search(shipped, query="   ")) == len(shipped.entries)


def test_filters_combine_and_refuse_unknown_values() -> None:
    shipped = catalog.current_catalog()
    health = search(shipped, industry="healthcare")
    assert health and all(u.industry == "healthcare" for u in health)
    easy_binary = search(shipped, task="binary", difficulty="EASY")
    assert easy_binary and all(u.task == "binary" and u.difficulty == "easy" for u in easy_binary)
    assert {u.key for u in search(shipped, industry="energy", task="regression", query="태양광")} == {
        "solar-generation-forecasting"}
    with pytest.raises(InvalidInput, match="Unknown industry 'mining'"):
        search(shipped, industry="mining")
    with pytest.raises(InvalidInput, match="Unknown task"):
        search(shipped, task="clustering")
    with pytest.raises(InvalidInput, match="at most 200"):
        search(shipped, query="x" * 201)


def test_indexed_search_equals_a_plain_substring_scan() -> None:
    shipped = catalog.current_catalog()
    words = ["ore", "측", "(mape)", "mape)", "10–20", "%", "a", "이", "-", "churn-prediction", "telecom", "binary",
             "regression.", "예측 오차", "Forecast ERROR", "x\x00y", "\x00"]
    for query in words:
        expected = [u.key for u, text in zip(shipped.entries, shipped.haystacks, strict=True)
                    if all(w in text for w in query.replace("\x00", " ").casefold().split())]
        assert [u.key for u in search(shipped, query=query)] == expected, query
