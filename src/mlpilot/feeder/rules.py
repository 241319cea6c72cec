"""Pure rules of a pipeline run: trigger rules, the source-schema check, and retries of transient failures."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc

from mlpilot.core.errors import InvalidInput

T = TypeVar("T")

TRIGGER_KINDS = ("min_new_rows",)
TRAIN_TASKS = ("auto", "binary", "multiclass", "regression")
MAX_TRAIN_BUDGET_S = 3600.0


# --- trigger rules ---------------------------------------------------------------------------------------

def check_triggers(triggers: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Return the trigger rules normalised, or raise InvalidInput naming the rule and field at fault.

    Supported: {"kind": "min_new_rows", "rows": N, "train": {"target": COL, "task": "auto", "time_budget_s": 60,
    "engine": "lightgbm"}} — start a training run once N new rows arrived since the last one it started.
    """
    out: list[dict[str, Any]] = []
    for i, rule in enumerate(triggers or []):
        where = f"triggers[{i}]"
        if not isinstance(rule, dict):
            raise InvalidInput(f"{where} must be an object like {{'kind': 'min_new_rows', 'rows': 1000, "
                               "'train': {'target': 'churn'}}.")
        kind = rule.get("kind")
        if kind not in TRIGGER_KINDS:
            raise InvalidInput(f"{where}.kind is {kind!r}; expected one of: {', '.join(TRIGGER_KINDS)}.")
        rows = rule.get("rows")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
            raise InvalidInput(f"{where}.rows must be a whole number of at least 1; got {rows!r}.")
        train = rule.get("train")
        if not isinstance(train, dict):
            raise InvalidInput(f"{where}.train must be an object with at least 'target' (the column to predict).")
        target = train.get("target")
        if not isinstance(target, str) or not target.strip():
            raise InvalidInput(f"{where}.train.target must name the column to predict.")
        task = train.get("task", "auto")
        if task not in TRAIN_TASKS:
            raise InvalidInput(f"{where}.train.task is {task!r}; expected one of: {', '.join(TRAIN_TASKS)}.")
        budget = train.get("time_budget_s", 60)
        if not isinstance(budget, int | float) or isinstance(budget, bool) or not 0 < budget <= MAX_TRAIN_BUDGET_S:
            raise InvalidInput(f"{where}.train.time_budget_s must be more than 0 and at most "
                               f"{MAX_TRAIN_BUDGET_S:.0f} seconds; got {budget!r}.")
        engine = train.get("engine", "lightgbm")
        if not isinstance(engine, str) or not engine:
            raise InvalidInput(f"{where}.train.engine must be an engine name such as 'lightgbm'.")
        out.append({"kind": kind, "rows": rows,
                    "train": {"target": target.strip(), "task": task, "time_budget_s": float(budget),
                              "engine": engine}})
    return out


@dataclass(frozen=True)
class TrainRequest:
    """The training run a fired trigger asks for (stored rules are the JSON `check_triggers` returns)."""

    target: str
    task: str = "auto"
    time_budget_s: float = 60.0
    engine: str = "lightgbm"


def due_trainings(triggers: list[dict[str, Any]], new_rows: int) -> list[TrainRequest]:
    """Return the training requests of the rules that fire once `new_rows` rows arrived since the last training."""
    return [TrainRequest(target=rule["train"]["target"], task=rule["train"].get("task", "auto"),
                         time_budget_s=float(rule["train"].get("time_budget_s", 60)),
                         engine=rule["train"].get("engine", "lightgbm"))
            for rule in triggers if rule["kind"] == "min_new_rows" and new_rows >= rule["rows"]]


# --- the source-schema check ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SchemaChange:
    """How an incoming frame's columns differ from the target dataset's latest version."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: list[tuple[str, str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def describe(self) -> str:
        """Return a sentence naming every added, removed and retyped column."""
        parts = []
        if self.added:
            parts.append("added " + ", ".join(repr(c) for c in self.added))
        if self.removed:
            parts.append("removed " + ", ".join(repr(c) for c in self.removed))
        if self.retyped:
            parts.append("retyped " + ", ".join(f"{c!r} ({old} → {new})" for c, old, new in self.retyped))
        return "; ".join(parts)


# A chunk whose values are all missing has no type of its own; it fits any stored type.
_UNTYPED = {"Null"}
# How the lake stores types it has no exact equivalent for, so a value read back compares equal to one sent.
_STORED_AS = {"UInt8": "Int16", "UInt16": "Int32", "UInt32": "Int64", "UInt64": "Int64", "Categorical": "String",
              "Enum": "String", "Time": "String", "Duration": "Int64"}


def comparable_dtype(dtype: str) -> str:
    """Return the type name a stored column would have (parameters such as unit and time zone dropped)."""
    family = dtype.split("(", 1)[0].strip()
    return _STORED_AS.get(family, family)


def compare_schema(expected: Iterable[dict[str, str]], actual: dict[str, str]) -> SchemaChange:
    """Compare the stored schema ([{"name", "dtype"}]) with an incoming one ({name: dtype})."""
    stored = {c["name"]: c["dtype"] for c in expected}
    added = [c for c in actual if c not in stored]
    removed = [c for c in stored if c not in actual]
    retyped = [(c, stored[c], actual[c]) for c in actual
               if c in stored and actual[c] not in _UNTYPED
               and comparable_dtype(actual[c]) != comparable_dtype(stored[c])]
    return SchemaChange(added=added, removed=removed, retyped=retyped)


# --- transient failures ----------------------------------------------------------------------------------------

# Failures that may pass by themselves: the network, a database that is restarting or busy, a timeout.
TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError, TimeoutError, sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """Return whether `error` (or what caused it) is worth retrying.

    An error may say so itself with a `transient` attribute (connectors do); otherwise its type and the chain of
    errors that caused it decide.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        flag = getattr(current, "transient", None)
        if flag is not None:
            # The raiser knew best (a connector marks a refused connection transient, a missing table not).
            return bool(flag)
        if isinstance(current, TRANSIENT_TYPES):
            return True
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


def backoff_delays(attempts: int, base_delay_s: float, *, cap_s: float = 300.0) -> list[float]:
    """Return the waits between `attempts` tries: base, 2·base, 4·base… capped at `cap_s`."""
    return [min(cap_s, base_delay_s * 2 ** i) for i in range(max(0, attempts - 1))]


def call_with_retries(fn: Callable[[], T], *, attempts: int, base_delay_s: float,
                      on_retry: Callable[[int, BaseException, float], None] | None = None,
                      sleep: Callable[[float], None] = time.sleep) -> tuple[T, int]:
    """Call `fn` until it succeeds, retrying transient failures with exponential backoff; return (result, tries).

    A failure that is not transient, or the last transient one, is raised with the number of tries attached as
    `attempts`.
    """
    delays = backoff_delays(attempts, base_delay_s)
    for attempt in range(1, attempts + 1):
        try:
            return fn(), attempt
        except Exception as error:
            if attempt >= attempts or not is_transient(error):
                error.attempts = attempt  # type: ignore[attr-defined]
                raise
            delay = delays[attempt - 1]
            if on_retry is not None:
                on_retry(attempt, error, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
