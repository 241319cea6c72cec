"""Use-case explorer benchmark: filter + search over 10,000 generated use cases (issue 14: ≤ 50 ms server time).

Usage: python benchmarks/usecases_bench.py [--entries 10000] [--repeat 30] [--json OUT]

The 10,000 entries are generated from the shipped catalog (each a variant with its own key and words), written to
a JSON file and loaded through `catalog.load_catalog` (so the pydantic validation at load is timed too). For each
query (filters and ko/en search text) it measures, median of --repeat runs:
- mlpilot's service function `catalog.search` on the loaded catalog;
- the HTTP request GET /api/v1/usecases in-process (the real app through Starlette's TestClient, token auth,
  SQLite metadata database), with the generated catalog installed as the app's catalog;
- two naive peers on the same rows, named in the output: a pandas filter (`str.contains(case=False)` over a
  joined text column) and an SQLite in-memory table queried with `LIKE` (one LIKE per word).
It prints one line per query and the ratio peer ÷ mlpilot, and checks that all sides return the same keys.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mlpilot.usecases import catalog  # noqa: E402

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
         "가나", "다라", "마바", "사아", "자차", "카타", "파하"]
QUERIES: list[dict[str, str]] = [
    {"q": "이탈"},
    {"q": "FORECASTING", "industry": "energy"},
    {"q": "mape retail"},
    {"industry": "finance", "task": "binary", "difficulty": "hard"},
    {"q": "variant-9999"},
    {"q": "delta 가나", "difficulty": "medium"},
    {},
]


def generate(entries: int) -> list[dict[str, object]]:
    """`entries` catalog rows: variants of the shipped ones with unique keys and two extra words each."""
    base = json.loads(catalog.CATALOG_FILE.read_text(encoding="utf-8"))
    rows = []
    for i in range(entries):
        row = json.loads(json.dumps(base[i % len(base)]))
        extra = f" {WORDS[i % len(WORDS)]} {WORDS[(i // len(WORDS)) % len(WORDS)]} variant-{i}"
        row["key"] = f"{row['key'][:60]}-{i}"
        row["problem"] = {"en": row["problem"]["en"] + extra, "ko": row["problem"]["ko"] + extra}
        rows.append(row)
    return rows


def median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    result = fn()  # warm-up (caches, first-query planning)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), result


def peer_frame(loaded: catalog.Catalog) -> pd.DataFrame:
    return pd.DataFrame({"key": [e.key for e in loaded.entries], "industry": [e.industry for e in loaded.entries],
                         "task": [e.task for e in loaded.entries],
                         "difficulty": [e.difficulty for e in loaded.entries],
                         "text": [h for h in loaded.haystacks]})


def pandas_search(frame: pd.DataFrame, query: dict[str, str]) -> list[str]:
    mask = pd.Series(True, index=frame.index)
    for column in ("industry", "task", "difficulty"):
        if query.get(column):
            mask &= frame[column] == query[column].lower()
    for word in query.get("q", "").split():
        mask &= frame["text"].str.contains(word, case=False, regex=False)
    return frame.loc[mask, "key"].tolist()


def sqlite_table(loaded: catalog.Catalog) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE usecases (pos INTEGER, key TEXT, industry TEXT, task TEXT, difficulty TEXT, text TEXT)")
    db.executemany("INSERT INTO usecases VALUES (?, ?, ?, ?, ?, ?)",
                   [(i, e.key, e.industry, e.task, e.difficulty, h)
                    for i, (e, h) in enumerate(zip(loaded.entries, loaded.haystacks, strict=True))])
    return db


def sqlite_search(db: sqlite3.Connection, query: dict[str, str]) -> list[str]:
    where, params = [], []
    for column in ("industry", "task", "difficulty"):
        if query.get(column):
            where.append(f"{column} = ?")
            params.append(query[column].lower())
    for word in query.get("q", "").split():
        where.append("text LIKE ?")
        params.append(f"%{word}%")
    sql = "SELECT key FROM usecases" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY pos"
    return [row[0] for row in db.execute(sql, params)]


def http_client(tmp: Path, catalog_file: Path):  # noqa: ANN201 - a TestClient, imported late
    from fastapi.testclient import TestClient

    from mlpilot.app import create_app
    from mlpilot.settings import Settings

    token = "bench-admin-token-0123456789-abcdefghij"
    settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'meta.sqlite'}",
                        bootstrap_token=token, admin_password="bench-password-123")
    # Install the generated catalog as the app's catalog (the shipped file stays untouched).
    catalog.CATALOG_FILE = catalog_file
    catalog._load.cache_clear()
    client = TestClient(create_app(settings))
    client.__enter__()
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        catalog_file = tmp / "catalog.json"
        catalog_file.write_text(json.dumps(generate(args.entries), ensure_ascii=False), encoding="utf-8")
        start = time.perf_counter()
        loaded = catalog.load_catalog(catalog_file)
        load_ms = 1000 * (time.perf_counter() - start)
        frame, db = peer_frame(loaded), sqlite_table(loaded)
        client = http_client(tmp, catalog_file)
        print(f"{len(loaded.entries):,} use cases; load + validation {load_ms:.0f} ms")
        print(f"{'query':<58} {'hits':>6} {'service':>9} {'HTTP':>9} {'pandas':>9} {'sqlite':>9} "
              f"{'pandas/svc':>10} {'sqlite/svc':>10}")
        results = []
        for query in QUERIES:
            service_ms, found = median_ms(lambda q=query: catalog.search(
                loaded, industry=q.get("industry"), task=q.get("task"), difficulty=q.get("difficulty"),
                query=q.get("q")), args.repeat)
            keys = [u.key for u in found]  # type: ignore[attr-defined]
            params = {**query, "limit": 1000}
            http_ms, response = median_ms(lambda p=params: client.get("/api/v1/usecases", params=p), args.repeat)
            assert response.status_code == 200, response.text  # type: ignore[attr-defined]
            assert int(response.headers["X-Total-Count"]) == len(keys)  # type: ignore[attr-defined]
            assert [u["key"] for u in response.json()] == keys[:1000]  # type: ignore[attr-defined]
            pandas_ms, pandas_keys = median_ms(lambda q=query: pandas_search(frame, q), args.repeat)
            sqlite_ms, sqlite_keys = median_ms(lambda q=query: sqlite_search(db, q), args.repeat)
            assert pandas_keys == keys and sqlite_keys == keys, f"peers disagree on {query}"
            label = json.dumps(query, ensure_ascii=False)
            print(f"{label:<58} {len(keys):>6} {service_ms:>7.2f}ms {http_ms:>7.2f}ms {pandas_ms:>7.2f}ms "
                  f"{sqlite_ms:>7.2f}ms {pandas_ms / service_ms:>9.1f}× {sqlite_ms / service_ms:>9.1f}×")
            results.append({"query": query, "hits": len(keys), "service_ms": service_ms, "http_ms": http_ms,
                            "pandas_ms": pandas_ms, "sqlite_like_ms": sqlite_ms})
        client.__exit__(None, None, None)
        worst_service = max(r["service_ms"] for r in results)
        worst_http = max(r["http_ms"] for r in results)
        print(f"worst service {worst_service:.2f} ms, worst HTTP {worst_http:.2f} ms (target ≤ 50 ms): "
              f"{'OK' if worst_http <= 50 else 'OVER'}")
        if args.json:
            args.json.write_text(json.dumps({"entries": len(loaded.entries), "load_ms": load_ms,
                                             "results": results}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
