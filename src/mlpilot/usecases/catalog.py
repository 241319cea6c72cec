"""The use-case catalog shipped with the package (catalog.json): validated once at load, filtered and searched.

Every entry is checked against `UseCaseEntry` (unknown fields refused) when the catalog is first read, so a bad
edit of catalog.json fails at start-up with the entry and field named rather than as a broken page later.

A use case's task is either one mlpilot's own engines train (`BUILT_IN_TASKS`, the training domain's task
choices) or one that needs an outside engine reached through the `http` engine (`OUTSIDE_TASKS`, e.g. object
detection on images): the catalog never lists a task nobody can build.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlpilot.core.errors import InvalidInput

CATALOG_FILE = Path(__file__).resolve().parent / "catalog.json"

INDUSTRIES = ("manufacturing", "retail", "finance", "public", "telecom", "energy", "logistics", "healthcare")
BUILT_IN_TASKS = ("binary", "multiclass", "regression")
OUTSIDE_TASKS = ("object-detection", "document-extraction", "semantic-search")
TASKS = BUILT_IN_TASKS + OUTSIDE_TASKS
DIFFICULTIES = ("easy", "medium", "hard")
MAX_QUERY = 200
# Joins the index's tokens; removed from search words so a word never spans two tokens.
SEPARATOR = "\x00"

Industry = Literal["manufacturing", "retail", "finance", "public", "telecom", "energy", "logistics", "healthcare"]
TaskName = Literal["binary", "multiclass", "regression", "object-detection", "document-extraction", "semantic-search"]
Difficulty = Literal["easy", "medium", "hard"]


class Text(BaseModel):
    """One text in English and Korean (both required)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1, max_length=1000)
    ko: str = Field(min_length=1, max_length=1000)

    def get(self, locale: str) -> str:
        return self.ko if locale == "ko" else self.en


class UseCase(BaseModel):
    """One catalog entry: the business problem, the data it needs, the task and how it is valued and built."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")
    industry: Industry
    task: TaskName
    difficulty: Difficulty
    time_series: bool = Field(description="Rows are ordered in time: readiness checks the history length.")
    blueprint: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$", description="Name of the blueprint to build it from.")
    title: Text
    problem: Text
    data_needed: Text
    typical_value: Text
    kpis: tuple[Text, ...] = Field(min_length=1, max_length=8)

    @property
    def needs_outside_engine(self) -> bool:
        """True when mlpilot's own engines cannot train this task (it runs through the `http` engine)."""
        return self.task in OUTSIDE_TASKS

    def localized_title(self, locale: str) -> str:
        return self.title.get(locale)

    def localized_kpis(self, locale: str) -> list[str]:
        return [k.get(locale) for k in self.kpis]


@dataclass(frozen=True)
class Catalog:
    """The validated entries, in file order, indexed for filters and search.

    Search is substring search, case-folded, over each entry's texts in both languages. A query word holds no
    whitespace, so it occurs in an entry exactly when it occurs inside one of the entry's whitespace-separated
    tokens: the index keeps the distinct tokens (joined into one string, found with C-speed `str.find`) and, per
    token, the positions of the entries holding it. Each filter value keeps the set of positions holding it.
    """

    entries: tuple[UseCase, ...]
    haystacks: tuple[str, ...] = field(repr=False)
    by_key: dict[str, UseCase] = field(repr=False)
    vocabulary: str = field(repr=False)
    token_starts: tuple[int, ...] = field(repr=False)
    postings: tuple[tuple[int, ...], ...] = field(repr=False)
    facets: dict[tuple[str, str], frozenset[int]] = field(repr=False)

    @classmethod
    def of(cls, entries: Iterable[UseCase]) -> Catalog:
        items = tuple(entries)
        by_key: dict[str, UseCase] = {}
        facets: dict[tuple[str, str], set[int]] = {}
        holders: dict[str, list[int]] = {}
        haystacks = tuple(_haystack(e) for e in items)
        for position, (entry, haystack) in enumerate(zip(items, haystacks, strict=True)):
            if entry.key in by_key:
                raise InvalidInput(f"Use-case catalog: key {entry.key!r} appears twice.")
            by_key[entry.key] = entry
            for facet in (("industry", entry.industry), ("task", entry.task), ("difficulty", entry.difficulty)):
                facets.setdefault(facet, set()).add(position)
            for token in set(haystack.split()):
                holders.setdefault(token, []).append(position)
        tokens = list(holders)
        starts, offset = [], 0
        for token in tokens:
            starts.append(offset)
            offset += len(token) + 1
        return cls(entries=items, haystacks=haystacks, by_key=by_key, vocabulary=SEPARATOR.join(tokens),
                   token_starts=tuple(starts), postings=tuple(tuple(holders[t]) for t in tokens),
                   facets={k: frozenset(v) for k, v in facets.items()})

    def positions_with(self, word: str) -> set[int]:
        """The positions of the entries whose search text contains `word` (case-folded, without whitespace)."""
        found: set[int] = set()
        at = self.vocabulary.find(word)
        while at >= 0:
            token = bisect.bisect_right(self.token_starts, at) - 1
            found.update(self.postings[token])
            if token + 1 >= len(self.token_starts):
                break
            # The rest of this token cannot add anything: continue from the next token.
            at = self.vocabulary.find(word, self.token_starts[token + 1])
        return found


def _haystack(entry: UseCase) -> str:
    texts = [entry.title, entry.problem, entry.data_needed, entry.typical_value, *entry.kpis]
    parts = [entry.key, entry.industry, entry.task, *(f"{t.en}\n{t.ko}" for t in texts)]
    return "\n".join(parts).casefold()


def parse_catalog(rows: object, *, source: str = "catalog.json") -> Catalog:
    """Validate raw catalog rows; raise InvalidInput naming the entry and the field on the first bad one."""
    if not isinstance(rows, list):
        raise InvalidInput(f"{source}: expected a JSON list of use cases.")
    entries = []
    for index, row in enumerate(rows):
        try:
            entries.append(UseCase.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            key = row.get("key") if isinstance(row, dict) else None
            raise InvalidInput(f"{source}: entry {index} ({key!r}) field {where!r}: {first['msg']}.") from exc
    return Catalog.of(entries)


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog file."""
    return parse_catalog(json.loads(path.read_text(encoding="utf-8")), source=path.name)


@lru_cache(maxsize=1)
def _load() -> Catalog:
    return load_catalog(CATALOG_FILE)


def current_catalog() -> Catalog:
    """The shipped catalog (read and validated once)."""
    return _load()


def list_usecases() -> list[UseCase]:
    """Return every use case in catalog order."""
    return list(_load().entries)


def find_usecase(key: str) -> UseCase | None:
    """Return the use case with `key`, if any."""
    return _load().by_key.get(key)


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput(f"Unknown {name} {value!r}; expected one of: {', '.join(allowed)}.")
    return value


def search(catalog: Catalog, *, industry: str | None = None, task: str | None = None,
           difficulty: str | None = None, query: str | None = None) -> list[UseCase]:
    """Return the entries matching every given filter and containing every word of `query` (case-insensitive,
    English or Korean, in the title, problem, data, value or KPIs)."""
    wanted_industry = _choice(industry, INDUSTRIES, "industry")
    wanted_task = _choice(task, TASKS, "task")
    wanted_difficulty = _choice(difficulty, DIFFICULTIES, "difficulty")
    if query is not None and len(query) > MAX_QUERY:
        raise InvalidInput(f"The search text is at most {MAX_QUERY} characters; got {len(query)}.")
    words = (query or "").replace(SEPARATOR, " ").casefold().split()
    positions: set[int] | frozenset[int] | None = None
    for facet in (("industry", wanted_industry), ("task", wanted_task), ("difficulty", wanted_difficulty)):
        if facet[1] is not None:
            chosen = catalog.facets.get((facet[0], facet[1]), frozenset())
            positions = chosen if positions is None else positions & chosen
    for word in words:
        if positions is not None and not positions:
            break
        hits = catalog.positions_with(word)
        positions = hits if positions is None else positions & hits
    if positions is None:
        return list(catalog.entries)
    return [catalog.entries[i] for i in sorted(positions)]
