"""The batch scoring engine: read chunks, predict, write each chunk together with its checkpoint.

Exactly-once output after a crash rests on one rule: a chunk's predictions and the record that the chunk is
done become visible atomically, in the output itself —
- SQL outputs insert the chunk's rows and a row in `mlpilot_scoring_checkpoints` in one transaction;
- file outputs write each chunk as a part file through a temporary name and an atomic rename, and combine the
  parts into the target file (again by rename) once every chunk is done.
A resumed run reads which chunks are done and skips them. The source must yield rows in the same order on
every read (a table read in storage order, files, or a query with ORDER BY).

No metadata database here: the service layer records runs and progress.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mlpilot.core.errors import InvalidInput
from mlpilot.scoring import specs

CHECKPOINT_TABLE = "mlpilot_scoring_checkpoints"
OUTPUT_FORMATS = ("csv", "parquet")


class Model(Protocol):
    def predict(self, frame: pl.DataFrame) -> Any: ...


def prediction_frame(model: Model, frame: pl.DataFrame, *, keep: list[str] | None) -> pl.DataFrame:
    """Return the kept source columns plus `prediction` (and `proba_<class>` for classifiers)."""
    result = model.predict(frame)
    kept = frame.select(keep) if keep is not None else frame
    columns: list[pl.Series] = []
    if getattr(result, "values", None) is not None:
        columns.append(pl.Series("prediction", [float(v) for v in result.values], dtype=pl.Float64))
    else:
        columns.append(pl.Series("prediction", [str(v) for v in result.labels], dtype=pl.Utf8))
        probabilities = getattr(result, "probabilities", None)
        classes = list(getattr(getattr(model, "signature", None), "classes", None) or [])
        if probabilities is not None and len(classes) == probabilities.shape[1]:
            for i, name in enumerate(classes):
                columns.append(pl.Series(_proba_name(name), probabilities[:, i], dtype=pl.Float64))
    clash = [s.name for s in columns if s.name in kept.columns]
    if clash:
        raise InvalidInput(f"The source already has column(s) {', '.join(clash)}; drop them with `keep`.")
    return kept.with_columns(columns)


def _proba_name(label: Any) -> str:
    return "proba_" + re.sub(r"\W+", "_", str(label)).strip("_")[:50]


class Output(Protocol):
    def done_chunks(self) -> set[int]: ...

    def write_chunk(self, index: int, frame: pl.DataFrame) -> None: ...

    def finish(self) -> None: ...

    def describe(self) -> str: ...


# SQL -----------------------------------------------------------------------------------------------------


def _sa_type(dtype: pl.DataType) -> sa.types.TypeEngine[Any]:
    if dtype.is_integer():
        return sa.BigInteger()
    if dtype.is_float():
        return sa.Float(53)
    if dtype == pl.Boolean:
        return sa.Boolean()
    if dtype == pl.Date:
        return sa.Date()
    if dtype == pl.Datetime:
        return sa.DateTime()
    return sa.Text()


class SqlOutput:
    """Appends predictions to a table (created when missing) with per-chunk checkpoints in the same database."""

    def __init__(self, url: str, table: str, run_key: str) -> None:
        try:
            self.url = make_url(url)
        except ArgumentError:
            raise InvalidInput(f"{url!r} is not a SQLAlchemy database URL (dialect+driver://user@host/db).") from None
        if not re.fullmatch(r"[A-Za-z_][\w$]*", table):
            raise InvalidInput(f"{table!r} is not a plain table name (letters, digits, underscore).")
        self.table_name, self.run_key = table, run_key
        self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            # WAL lets this writer commit while the source streams from the same file.
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        self.meta = sa.MetaData()
        self.checkpoints = sa.Table(
            CHECKPOINT_TABLE, self.meta,
            sa.Column("run_key", sa.String(100), primary_key=True),
            sa.Column("chunk", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("rows", sa.Integer, nullable=False))
        self.meta.create_all(self.engine, tables=[self.checkpoints])
        self.table: sa.Table | None = None

    def describe(self) -> str:
        return f"table {self.table_name} at {self.url.render_as_string(hide_password=True)}"

    def done_chunks(self) -> set[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(self.checkpoints.c.chunk).where(self.checkpoints.c.run_key == self.run_key))
            return {r[0] for r in rows}

    def _table_for(self, frame: pl.DataFrame) -> sa.Table:
        if self.table is None:
            inspector = sa.inspect(self.engine)
            if inspector.has_table(self.table_name):
                self.table = sa.Table(self.table_name, sa.MetaData(), autoload_with=self.engine)
                missing = [c for c in frame.columns if c not in self.table.c]
                if missing:
                    raise InvalidInput(f"Output table {self.table_name} exists but lacks column(s) "
                                       f"{', '.join(missing)}; choose a new table or add them.")
            else:
                self.table = sa.Table(self.table_name, sa.MetaData(),
                                      *[sa.Column(name, _sa_type(dtype)) for name, dtype in frame.schema.items()])
                self.table.create(self.engine, checkfirst=True)
        return self.table

    def write_chunk(self, index: int, frame: pl.DataFrame) -> None:
        table = self._table_for(frame)
        with self.engine.begin() as conn:  # rows and checkpoint commit together, or neither does
            if frame.height:
                # NaN is not a SQL value everywhere (MySQL refuses it): store it as NULL.
                floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
                conn.execute(table.insert(), frame.with_columns(pl.col(floats).fill_nan(None)).to_dicts())
            conn.execute(self.checkpoints.insert().values(run_key=self.run_key, chunk=index, rows=frame.height))

    def finish(self) -> None:
        self.engine.dispose()


# Files ---------------------------------------------------------------------------------------------------


class FileOutput:
    """Writes each chunk as an atomic part file, then combines the parts into one CSV or Parquet file."""

    def __init__(self, path: str, fmt: str | None = None) -> None:
        self.path = Path(path)
        self.format = (fmt or self.path.suffix.lstrip(".") or "parquet").lower()
        if self.format not in OUTPUT_FORMATS:
            raise InvalidInput(f"Output format must be one of {', '.join(OUTPUT_FORMATS)}; got {self.format!r}.")
        self.parts = self.path.with_name(self.path.name + ".parts")

    def describe(self) -> str:
        return f"file {self.path}"

    def _part(self, index: int) -> Path:
        return self.parts / f"part-{index:08d}.parquet"

    def done_chunks(self) -> set[int]:
        if not self.parts.is_dir():
            return set()
        return {int(p.stem.split("-")[1]) for p in self.parts.glob("part-*.parquet")}

    def write_chunk(self, index: int, frame: pl.DataFrame) -> None:
        self.parts.mkdir(parents=True, exist_ok=True)
        tmp = self.parts / f".tmp-{index:08d}-{os.getpid()}"
        frame.write_parquet(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self._part(index))

    def finish(self) -> None:
        parts = sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []
        frame = pl.concat([pl.read_parquet(p) for p in parts], how="vertical_relaxed") if parts else pl.DataFrame()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        if self.format == "csv":
            frame.write_csv(tmp)
        else:
            frame.write_parquet(tmp)
        os.replace(tmp, self.path)
        shutil.rmtree(self.parts, ignore_errors=True)


def make_output(spec: specs.SqlOutput | specs.FileOutput, *, run_key: str) -> Output:
    """Build the output a spec describes."""
    match spec:
        case specs.SqlOutput(url=url, table=table, password=password):
            if password:  # given apart from the URL: put it back in for connecting
                try:
                    url = make_url(url).set(password=password).render_as_string(hide_password=False)
                except ArgumentError:
                    raise InvalidInput(f"output.url: {url!r} is not a SQLAlchemy database URL.") from None
            return SqlOutput(url, table, run_key)
        case specs.FileOutput(path=path, format=fmt):
            return FileOutput(path, fmt)


@dataclass(frozen=True)
class ScoringResult:
    """What a finished run did: chunks scored now, chunks found already done (a resumed run), rows, where to."""

    chunks_scored: int
    chunks_skipped: int
    rows: int
    output: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChunkDone:
    index: int
    rows: int
    skipped: bool
    total_rows: int


def run(chunks: Iterator[pl.DataFrame], model: Model, output: Output, *, keep: list[str] | None = None,
        on_chunk: Callable[[ChunkDone], None] | None = None) -> ScoringResult:
    """Score every chunk not yet done, write it with its checkpoint, then finish the output."""
    done = output.done_chunks()
    scored = skipped = rows = 0
    for index, frame in enumerate(chunks):
        if index in done:
            skipped += 1
            rows += frame.height
            if on_chunk:
                on_chunk(ChunkDone(index, frame.height, True, rows))
            continue
        if keep is not None:
            missing = [c for c in keep if c not in frame.columns]
            if missing:
                raise InvalidInput(f"keep names column(s) the source lacks: {', '.join(missing)}.")
        output.write_chunk(index, prediction_frame(model, frame, keep=keep))
        scored += 1
        rows += frame.height
        if on_chunk:
            on_chunk(ChunkDone(index, frame.height, False, rows))
    output.finish()
    return ScoringResult(chunks_scored=scored, chunks_skipped=skipped, rows=rows, output=output.describe())
