"""From a long frame (id, time, target, covariates) to a right-aligned panel of regular series, and back.

Every series is put on one grid: the frequency is inferred from the data (calendar months, a fixed
duration or an integer step), checked (duplicates, mixed or irregular steps, series too short) and gaps
are filled by linear interpolation, which is reported. Rows are right-aligned by position so series that
end on different dates still forecast from their own last point.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput

US_PER = {"min": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
MAX_CELLS = 60_000_000  # series x grid length kept in memory (float64: 480 MB)
MAX_GAP_FRACTION = 0.2  # more missing grid points than this in one series is an error, not a repair
ID_ALL = "__series__"  # the id of the only series when no id column is given


@dataclass(frozen=True)
class Frequency:
    """The grid step: `months` (calendar months), `duration` (microseconds) or `index` (integer steps)."""

    kind: str
    step: int

    def label(self) -> str:
        if self.kind == "months":
            return {1: "monthly", 3: "quarterly", 6: "half-yearly", 12: "yearly"}.get(self.step, f"{self.step} months")
        if self.kind == "index":
            return f"every {self.step} (integer time)"
        for unit, size in (("d", US_PER["d"]), ("h", US_PER["h"]), ("min", US_PER["min"])):
            if self.step % size == 0:
                return {"1d": "daily", "7d": "weekly", "1h": "hourly"}.get(f"{self.step // size}{unit}",
                                                                          f"{self.step // size}{unit}")
        return f"{self.step / 1e6:g}s"

    def season_length(self) -> int:
        """The seasonal period in steps (1 when there is no natural one)."""
        if self.kind == "months":
            return {1: 12, 3: 4, 6: 2}.get(self.step, 1)
        if self.kind == "index":
            return 1
        if self.step == US_PER["d"]:
            return 7
        if self.step == 7 * US_PER["d"]:
            return 52
        if self.step < US_PER["d"] and US_PER["d"] % self.step == 0:
            return US_PER["d"] // self.step
        return 1


@dataclass(frozen=True)
class TimeAxis:
    """How grid positions map back to values of the time column."""

    frequency: Frequency
    dtype: str  # "datetime", "date" or "int"
    time_zone: str | None = None
    utc: bool = False  # sub-daily zoned data is put on its grid in UTC (a DST day has 23 or 25 hours)
    month_anchor: str = "start"  # months: "start", "end" or "day:N" (a fixed day of the month)
    time_unit: str = "us"


@dataclass
class Panel:
    """n regular series right-aligned in (n, T) arrays; NaN before each series starts."""

    ids: list[str]
    y: np.ndarray
    last: np.ndarray  # (n,) int64: last time of each series in grid units (us, month number or integer)
    axis: TimeAxis
    covariates: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def lengths(self) -> np.ndarray:
        return np.asarray((~np.isnan(self.y)).sum(axis=1))

    def times(self, offsets: np.ndarray) -> np.ndarray:
        """Grid units at `offsets` steps after each series' last point: (n, k) int64."""
        return np.asarray(self.last[:, None] + offsets[None, :].astype(np.int64) * self.axis.frequency.step)


def _names(ids: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def time_values(frame: pl.DataFrame, time_column: str) -> tuple[pl.Series, str, str | None]:
    """The time column as naive datetimes (wall clock) or integers, with its kind and time zone."""
    col = frame[time_column]
    if col.dtype == pl.String:
        try:
            col = col.str.to_datetime(time_unit="us")
        except pl.exceptions.PolarsError as exc:
            raise InvalidInput(f"Time column '{time_column}' has text that is not a date or time: {exc}") from exc
    if col.dtype.is_integer():
        return col.cast(pl.Int64), "int", None
    if col.dtype == pl.Date:
        return col.cast(pl.Datetime("us")), "date", None
    if isinstance(col.dtype, pl.Datetime):
        zone = col.dtype.time_zone
        return col.dt.replace_time_zone(None).dt.cast_time_unit("us"), "datetime", zone
    raise InvalidInput(f"Time column '{time_column}' must hold dates, datetimes or integers, not {col.dtype}.")


def parse_time_column(frame: pl.DataFrame, time_column: str) -> pl.DataFrame:
    """The frame with a text time column parsed to datetimes (as stored from CSV), other types unchanged."""
    if time_column not in frame.columns or frame[time_column].dtype != pl.String:
        return frame
    return frame.with_columns(time_values(frame, time_column)[0].alias(time_column))


def _mode(values: np.ndarray) -> int:
    uniq, counts = np.unique(values, return_counts=True)
    return int(uniq[np.argmax(counts)])


def _month_anchor(stamps: pl.Series) -> str | None:
    """Calendar-month data sits at midnight on the 1st, the month's last day, or one fixed day."""
    if stamps.dt.truncate("1d").ne(stamps).any():
        return None
    days = stamps.dt.day()
    if (days == 1).all():
        return "start"
    if (stamps.dt.month_end() == stamps).all():
        return "end"
    return f"day:{days[0]}" if days.n_unique() == 1 else None


def _series_steps(ids: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by (id, time): consecutive differences within a series and a mask of valid ones."""
    diffs = np.diff(raw)
    same = ids[1:] == ids[:-1]
    return diffs, same


def _infer(ids: np.ndarray, raw: np.ndarray, names: list[str]) -> int:
    """The common step of all series (the most frequent per-series mode); mixed steps are an error."""
    diffs, same = _series_steps(ids, raw)
    positive = same & (diffs > 0)
    if not positive.any():
        raise InvalidInput("Every series needs at least two distinct timestamps to infer its frequency.")
    per_series: dict[int, int] = {}
    series_of_diff = ids[1:][positive]
    for sid, d in zip(np.unique(series_of_diff), np.split(diffs[positive], np.flatnonzero(
            np.diff(series_of_diff)) + 1), strict=True):
        per_series[int(sid)] = _mode(d)
    step = Counter(per_series.values()).most_common(1)[0][0]
    other = [sid for sid, s in per_series.items() if s != step]
    if other:
        shown = _names([names[i] for i in other])
        raise InvalidInput(f"Series have mixed frequencies: most step by {step}, but {shown}"
                           f" step by {per_series[other[0]]}. Forecast them separately or resample them to one"
                           " frequency.")
    return step


def _to_grid(ids: np.ndarray, raw: np.ndarray, names: list[str], step: int) -> np.ndarray:
    """Grid index of each row within its series; duplicates and off-grid points are errors."""
    diffs, same = _series_steps(ids, raw)
    dup = np.flatnonzero(same & (diffs == 0))
    if dup.size:
        bad = sorted({names[ids[i]] for i in dup})
        raise InvalidInput(f"Duplicate timestamps in series {_names(bad)} ({dup.size} in all). Aggregate them first"
                           " (e.g. sum or mean per timestamp); naive local times repeat an hour when daylight saving"
                           " ends, so give such a time column its time zone.")
    starts = np.flatnonzero(np.r_[True, ~same])
    counts = np.diff(np.r_[starts, raw.size])
    first = np.repeat(raw[starts], counts)
    offset = raw - first
    off_grid = np.flatnonzero(offset % step != 0)
    if off_grid.size:
        bad = sorted({names[ids[i]] for i in off_grid})
        raise InvalidInput(f"Series {_names(bad)} are irregular: {off_grid.size} timestamp(s) are not on the common"
                           f" grid of one step per {step} units from their first point. Resample them first.")
    return np.asarray(offset // step)


def build_panel(frame: pl.DataFrame, *, target: str, time_column: str, id_column: str | None,
                horizon: int, covariates: list[str] | None = None) -> Panel:
    """Validate the long frame and lay it out as a regular right-aligned panel."""
    for name, column in (("target", target), ("time", time_column), ("id", id_column)):
        if column is not None and column not in frame.columns:
            raise InvalidInput(f"The {name} column '{column}' is not in the data"
                               f" (columns: {', '.join(frame.columns)}).")
    if horizon < 1:
        raise InvalidInput("The horizon must be at least 1 step.")
    if not frame[target].dtype.is_numeric():
        raise InvalidInput(f"Target column '{target}' must be numeric, not {frame[target].dtype}.")
    covariates = covariates if covariates is not None else [
        c for c in frame.columns if c not in (target, time_column, id_column)]
    for c in covariates:
        if not (frame[c].dtype.is_numeric() or frame[c].dtype == pl.Boolean):
            raise InvalidInput(f"Covariate column '{c}' must be numeric or boolean, not {frame[c].dtype}; encode it"
                               " or drop it.")
    stamps, dtype, zone = time_values(frame, time_column)
    if stamps.null_count():
        raise InvalidInput(f"Time column '{time_column}' has {stamps.null_count()} empty value(s).")
    id_values = (frame[id_column].cast(pl.String).fill_null("<null>") if id_column
                 else pl.Series([ID_ALL] * frame.height))
    work = pl.DataFrame({"id": id_values, "t": stamps, "y": frame[target].cast(pl.Float64)}).with_columns(
        [frame[c].cast(pl.Float64).alias(f"c{i}") for i, c in enumerate(covariates)])
    work = work.filter(pl.col("y").is_not_null() & pl.col("y").is_not_nan())
    if zone is not None:
        work = work.with_columns(u=frame[time_column].dt.convert_time_zone("UTC").dt.replace_time_zone(None)
                                 .dt.cast_time_unit("us"))
    work = work.sort("id", "u" if zone is not None else "t")
    names = work["id"].unique(maintain_order=True).to_list()
    ids = work["id"].rank("dense").cast(pl.Int64).to_numpy() - 1
    axis, raw = _axis(work, ids, names, dtype, zone)
    position = _to_grid(ids, raw, names, axis.frequency.step)
    return _layout(work, ids, names, raw, position, axis, covariates, horizon)


def _axis(work: pl.DataFrame, ids: np.ndarray, names: list[str], dtype: str,
          zone: str | None) -> tuple[TimeAxis, np.ndarray]:
    t = work["t"]
    if dtype == "int":
        raw = t.to_numpy().astype(np.int64)
        return TimeAxis(Frequency("index", _infer(ids, raw, names)), "int"), raw
    if zone is not None:
        # Sub-daily zoned times go on a UTC grid, where a daylight-saving change is neither a gap nor a
        # duplicate; daily and longer steps keep the wall clock (a DST day is still one day).
        raw_utc = work["u"].dt.epoch("us").to_numpy().astype(np.int64)
        step_utc = _infer(ids, raw_utc, names)
        if step_utc < US_PER["d"]:
            return TimeAxis(Frequency("duration", step_utc), dtype, zone, utc=True), raw_utc
    raw = t.dt.epoch("us").to_numpy().astype(np.int64)
    step = _infer(ids, raw, names)
    anchor = _month_anchor(t) if step >= 28 * US_PER["d"] else None
    if anchor is not None:
        months = (t.dt.year().cast(pl.Int64) * 12 + t.dt.month().cast(pl.Int64) - 1).to_numpy()
        return TimeAxis(Frequency("months", _infer(ids, months, names)), dtype, zone, month_anchor=anchor), months
    return TimeAxis(Frequency("duration", step), dtype, zone), raw


def _fill_gaps(values: np.ndarray, rows: np.ndarray) -> None:
    """Linear interpolation inside each listed row (leading NaN, before the series starts, stay NaN)."""
    for i in rows:
        row = values[i]
        known = np.flatnonzero(~np.isnan(row))
        if known.size == 0:
            continue
        inside = np.arange(known[0], row.size)
        row[inside] = np.interp(inside, known, row[known])


def _layout(work: pl.DataFrame, ids: np.ndarray, names: list[str], raw: np.ndarray, position: np.ndarray,
            axis: TimeAxis, covariates: list[str], horizon: int) -> Panel:
    n = len(names)
    span = np.zeros(n, dtype=np.int64)
    np.maximum.at(span, ids, position + 1)
    width = int(span.max())
    if n * width > MAX_CELLS:
        raise InvalidInput(f"{n} series over a grid of {width} steps is too large to hold ({n * width:,} cells, at"
                           f" most {MAX_CELLS:,}); cut old history or split the series into several runs.")
    column = width - span[ids] + position
    y = np.full((n, width), np.nan)
    y[ids, column] = work["y"].to_numpy()
    observed = (~np.isnan(y)).sum(axis=1)
    short = [i for i in np.flatnonzero(observed < max(horizon, 2))]
    if short:
        shown = ", ".join(f"'{names[i]}' ({observed[i]} points)" for i in short[:5])
        raise InvalidInput(f"{len(short)} series are shorter than the horizon of {horizon} (or have fewer than 2"
                           f" points): {shown}{' …' if len(short) > 5 else ''}. Remove them or lower the horizon.")
    missing = span - observed
    warnings: list[str] = []
    gappy = np.flatnonzero(missing > 0)
    if gappy.size:
        worst = gappy[np.argmax(missing[gappy] / span[gappy])]
        if missing[worst] / span[worst] > MAX_GAP_FRACTION:
            raise InvalidInput(f"Series '{names[worst]}' misses {missing[worst]} of its {span[worst]}"
                               f" {axis.frequency.label()} steps (more than {MAX_GAP_FRACTION:.0%}); is the"
                               " frequency right? Fill or resample it first.")
        _fill_gaps(y, gappy)
        warnings.append(f"Filled {int(missing[gappy].sum())} missing step(s) in {gappy.size} series by linear"
                        f" interpolation (e.g. {_names([names[i] for i in gappy])}).")
    arrays: dict[str, np.ndarray] = {}
    for i, name in enumerate(covariates):
        values = np.full((n, width), np.nan)
        values[ids, column] = work[f"c{i}"].to_numpy()
        _fill_gaps(values, np.flatnonzero(np.isnan(values).sum(axis=1) > width - span))
        holes = np.flatnonzero((np.isnan(values) & ~np.isnan(y)).any(axis=1))
        if holes.size:
            raise InvalidInput(f"Covariate '{name}' is empty at the start or end of series"
                               f" {_names([names[i] for i in holes])}; fill it or drop the column.")
        arrays[name] = values
    first_raw = np.zeros(n, dtype=np.int64)
    first_raw[ids[::-1]] = raw[::-1]  # the smallest row of each series wins (rows are sorted)
    last = first_raw + (span - 1) * axis.frequency.step
    return Panel(ids=names, y=y, last=last, axis=axis, covariates=arrays, warnings=warnings)


def to_time_values(axis: TimeAxis, units: np.ndarray) -> pl.Series:
    """Grid units (us, month numbers or integers) back to values of the original time column."""
    flat = pl.Series(units.ravel())
    if axis.dtype == "int":
        return flat.cast(pl.Int64)
    if axis.frequency.kind == "months":
        months = pl.DataFrame({"m": flat})
        start = months.select(pl.date(pl.col("m") // 12, pl.col("m") % 12 + 1, 1).cast(pl.Datetime("us"))
                              ).to_series()
        if axis.month_anchor == "end":
            start = start.dt.month_end()
        elif axis.month_anchor.startswith("day:"):
            start = start.dt.offset_by(f"{int(axis.month_anchor[4:]) - 1}d")
        stamps = start
    else:
        stamps = flat.cast(pl.Datetime("us"))
    if axis.dtype == "date":
        return stamps.dt.date()
    if axis.time_zone is None:
        return stamps
    if axis.utc:
        return stamps.dt.replace_time_zone("UTC").dt.convert_time_zone(axis.time_zone)
    return stamps.dt.replace_time_zone(axis.time_zone, ambiguous="earliest", non_existent="null")
