"""Builders for connector tests: Korean legacy files, Excel workbooks and throw-away tables on real databases."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import sqlalchemy as sa

POSTGRES_URL = os.environ.get("MLPILOT_TEST_POSTGRES_URL")
MYSQL_URL = os.environ.get("MLPILOT_TEST_MYSQL_URL")
SOURCE_DIALECTS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else []) + (["mysql"] if MYSQL_URL else [])

KOREAN_ROWS = [("홍길동", 30, "서울특별시"), ("김철수", 25, "부산광역시"), ("이영희", 41, "대구광역시")]


def korean_csv(encoding: str, *, delimiter: str = ",", header: bool = True, bom: bool = False) -> bytes:
    """A small Korean customer table encoded as a legacy system would export it."""
    lines = [delimiter.join(["이름", "나이", "주소"])] if header else []
    lines += [delimiter.join([name, str(age), city]) for name, age, city in KOREAN_ROWS]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def write_workbook(path: Path) -> Path:
    """An .xlsx with a cover sheet and a data sheet whose header sits on row 3 below a title."""
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = "표지"
    cover.append(["월간 보고서"])
    data = book.create_sheet("고객")
    data.append(["고객 현황 2024"])
    data.append([])
    data.append(["id", "이름", "점수"])
    for index, (name, _, _) in enumerate(KOREAN_ROWS, start=1):
        data.append([index, name, index * 1.5])
    book.save(path)
    return path


def source_url(dialect: str, tmp_path: Path) -> str:
    """A database URL of the given kind to create source tables in."""
    if dialect == "sqlite":
        return f"sqlite:///{tmp_path / 'source.sqlite'}"
    return POSTGRES_URL if dialect == "postgresql" else MYSQL_URL  # type: ignore[return-value]


@contextmanager
def orders_table(url: str, rows: int = 7) -> Iterator[str]:
    """Create a uniquely named `orders` table (id, amount, name, updated_at) and drop it afterwards."""
    name = f"mlp_orders_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, amount DECIMAL(10,2), "
                                 "name VARCHAR(40), updated_at TIMESTAMP NULL)")
        add_orders(url, name, range(1, rows + 1))
        yield name
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()


def add_orders(url: str, table: str, ids: range) -> None:
    """Insert orders with the given ids; order i was updated on 2024-01-i (then later days)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for i in ids:
            when = dt.datetime(2024, 1, 1, 9) + dt.timedelta(days=i)
            conn.execute(sa.text(f"INSERT INTO {table} VALUES (:i, :a, :n, :t)"),
                         {"i": i, "a": i * 1.5, "n": f"고객{i}", "t": when})
    engine.dispose()


def alter_orders(url: str, table: str) -> None:
    """Change the table's schema: a new column."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN channel VARCHAR(20)")
    engine.dispose()


def many_rows_csv(encoding: str, *, rows: int = 3000, quoted: bool = False) -> bytes:
    """A Korean table of `rows` rows (id, 이름, 점수, 날짜) large enough to span many 1 KiB blocks; with `quoted`,
    some names from row 1000 on hold the delimiter and a line break inside quotes."""
    lines = ["id,이름,점수,날짜"]
    for i in range(1, rows + 1):
        name = f"고객{i}"
        if quoted and i >= 1000 and i % 7 == 0:
            name = f'"{name}, 서울\n강남구"'
        lines.append(f"{i},{name},{i * 0.5},2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
