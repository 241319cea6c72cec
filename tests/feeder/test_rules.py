"""Pure rules of a run: trigger validation and firing, the schema check, transient errors and backoff."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from mlpilot.core.errors import InvalidInput
from mlpilot.feeder import rules


def test_check_triggers_normalises_defaults() -> None:
    out = rules.check_triggers([{"kind": "min_new_rows", "rows": 100, "train": {"target": " churn "}}])
    assert out == [{"kind": "min_new_rows", "rows": 100,
                    "train": {"target": "churn", "task": "auto", "time_budget_s": 60.0, "engine": "lightgbm"}}]
    assert rules.check_triggers(None) == []


@pytest.mark.parametrize(("rule", "words"), [
    ("rows>5", "triggers[0] must be an object"),
    ({"kind": "nightly"}, "triggers[0].kind is 'nightly'"),
    ({"kind": "min_new_rows", "rows": 0, "train": {"target": "y"}}, "triggers[0].rows"),
    ({"kind": "min_new_rows", "rows": "10", "train": {"target": "y"}}, "triggers[0].rows"),
    ({"kind": "min_new_rows", "rows": 5}, "triggers[0].train must be an object"),
    ({"kind": "min_new_rows", "rows": 5, "train": {"target": ""}}, "triggers[0].train.target"),
    ({"kind": "min_new_rows", "rows": 5, "train": {"target": "y", "task": "ranking"}}, "triggers[0].train.task"),
    ({"kind": "min_new_rows", "rows": 5, "train": {"target": "y", "time_budget_s": 0}}, "time_budget_s"),
])
def test_check_triggers_names_the_rule_and_field(rule: Any, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        rules.check_triggers([rule])
    assert words in err.value.detail


def test_due_trainings_fire_at_the_threshold() -> None:
    triggers = rules.check_triggers([{"kind": "min_new_rows", "rows": 50, "train": {"target": "y"}}])
    assert rules.due_trainings(triggers, 49) == []
    assert [t.target for t in rules.due_trainings(triggers, 50)] == ["y"]


def test_compare_schema_names_added_removed_and_retyped_columns() -> None:
    stored = [{"name": "id", "dtype": "Int64"}, {"name": "amount", "dtype": "Float64"},
              {"name": "region", "dtype": "String"}]
    change = rules.compare_schema(stored, {"id": "Int64", "amount": "String", "channel": "String"})
    assert change.added == ["channel"] and change.removed == ["region"]
    assert change.retyped == [("amount", "Float64", "String")]
    message = change.describe()
    assert "added 'channel'" in message and "removed 'region'" in message and "'amount' (Float64 → String)" in message


def test_compare_schema_accepts_what_the_lake_stores_differently() -> None:
    stored = [{"name": "at", "dtype": "Datetime(time_unit='us', time_zone='UTC')"}, {"name": "code", "dtype": "String"},
              {"name": "n", "dtype": "Int64"}, {"name": "note", "dtype": "String"}]
    incoming = {"at": "Datetime(time_unit='ns', time_zone=None)", "code": "Categorical", "n": "UInt32",
                "note": "Null"}
    assert not rules.compare_schema(stored, incoming)


def _operational_error() -> OperationalError:
    engine = create_engine("sqlite:////nonexistent-dir/never/there.db")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("opening a database in a missing folder should fail")


class FlaggedError(InvalidInput):
    def __init__(self, detail: str, *, transient: bool) -> None:
        super().__init__(detail)
        self.transient = transient


def test_is_transient_classifies_errors() -> None:
    assert rules.is_transient(ConnectionRefusedError("refused"))
    assert rules.is_transient(TimeoutError("slow"))
    assert rules.is_transient(_operational_error())
    assert rules.is_transient(FlaggedError("server away", transient=True))
    assert not rules.is_transient(FlaggedError("no such table", transient=False))
    assert not rules.is_transient(InvalidInput("bad column"))
    assert not rules.is_transient(ValueError("bad value"))
    try:
        raise RuntimeError("wrapped") from ConnectionResetError("reset")
    except RuntimeError as outer:
        assert rules.is_transient(outer)  # what caused it was a dropped connection
    try:
        try:
            raise ConnectionResetError("reset")
        except ConnectionResetError:
            raise FlaggedError("no such table", transient=False) from None
    except FlaggedError as suppressed:
        assert not rules.is_transient(suppressed)


def test_backoff_doubles_and_is_capped() -> None:
    assert rules.backoff_delays(4, 0.5) == [0.5, 1.0, 2.0]
    assert rules.backoff_delays(1, 0.5) == []
    assert rules.backoff_delays(10, 100.0, cap_s=300.0)[-1] == 300.0


def test_call_with_retries_retries_transient_failures_then_succeeds() -> None:
    outcomes: list[BaseException | str] = [ConnectionResetError("reset"), TimeoutError("slow"), "rows"]
    waits: list[float] = []
    retried: list[int] = []

    def read() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    result, tries = rules.call_with_retries(read, attempts=4, base_delay_s=0.25, sleep=waits.append,
                                            on_retry=lambda attempt, _e, _d: retried.append(attempt))
    assert (result, tries) == ("rows", 3)
    assert waits == [0.25, 0.5] and retried == [1, 2]


def test_call_with_retries_gives_up_after_the_last_attempt() -> None:
    calls: list[int] = []

    def read() -> None:
        calls.append(1)
        raise ConnectionRefusedError("refused")

    with pytest.raises(ConnectionRefusedError) as err:
        rules.call_with_retries(read, attempts=3, base_delay_s=0.0, sleep=lambda _s: None)
    assert len(calls) == 3 and err.value.attempts == 3


def test_call_with_retries_does_not_retry_a_permanent_failure() -> None:
    calls: list[int] = []

    def read() -> None:
        calls.append(1)
        raise InvalidInput("column 'x' is missing")

    with pytest.raises(InvalidInput):
        rules.call_with_retries(read, attempts=5, base_delay_s=0.0, sleep=lambda _s: None)
    assert calls == [1]
