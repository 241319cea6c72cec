"""Charts of the generated documents, drawn at render time with matplotlib (Agg) in the package's Korean font.

Each function returns PNG bytes, or None when the data would make a chart that answers nothing (one bar, no
dates): the section then shows its table alone.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

from mlpilot.core.pdf import FONT_DIR

MAX_GANTT_ROWS = 40
MAX_BARS = 20
_lock = threading.Lock()  # pyplot's state is global; one chart at a time per process
BLUE, RED, GREY, GREEN, AMBER = "#2f5bea", "#dc2626", "#9ca3af", "#16a34a", "#d97706"


@cache
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    path = FONT_DIR / "NanumSquareR.ttf"
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams.update({"font.family": family, "axes.unicode_minus": False, "font.size": 8,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _dates() -> Any:
    """matplotlib.dates, untyped: reached through Any."""
    import importlib

    return importlib.import_module("matplotlib.dates")


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def gantt(rows: Sequence[tuple[str, dt.date, dt.date, bool, dt.date | None, dt.date | None]], *, today: dt.date,
          labels: dict[str, str]) -> bytes | None:
    """Bars per task (name, start, finish, critical, baseline start, baseline finish), the baseline beneath each
    bar, and today's line; critical tasks in red."""
    rows = list(rows)[:MAX_GANTT_ROWS]
    if len(rows) < 2:
        return None
    with _lock:
        plt = _pyplot()
        mdates = _dates()
        fig, ax = plt.subplots(figsize=(7.2, max(1.8, 0.24 * len(rows) + 0.9)))
        for i, (_name, start, finish, critical, b_start, b_finish) in enumerate(rows):
            width = max((finish - start).days + 1, 1)
            ax.barh(i, width, left=mdates.date2num(start), height=0.5, color=RED if critical else BLUE)
            if b_start is not None and b_finish is not None:
                ax.barh(i + 0.33, max((b_finish - b_start).days + 1, 1), left=mdates.date2num(b_start), height=0.14,
                        color=GREY)
        ax.axvline(mdates.date2num(today), color=AMBER, linewidth=1.2, linestyle="--", label=labels["today"])
        ax.set_yticks(range(len(rows)), [r[0][:38] for r in rows])
        ax.invert_yaxis()
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        fig.autofmt_xdate(rotation=30)
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=BLUE, label=labels["task"]), Patch(color=RED, label=labels["critical"]),
                           Patch(color=GREY, label=labels["baseline"])], loc="lower right",
                  bbox_to_anchor=(1.0, 1.0), ncol=3, fontsize=7, frameon=False)
        return _png(fig)


def forecast_histogram(histogram: Sequence[tuple[dt.date, int]], *, p50: dt.date | None, p85: dt.date | None,
                       due: dt.date | None, labels: dict[str, str]) -> bytes | None:
    """How many Monte Carlo draws finish on each date, with the P50 and P85 lines (and the due date)."""
    if len(histogram) < 2:
        return None
    with _lock:
        plt = _pyplot()
        mdates = _dates()
        fig, ax = plt.subplots(figsize=(7.2, 2.6))
        days = [mdates.date2num(d) for d, _ in histogram]
        step = min(b - a for a, b in zip(days, days[1:], strict=False)) if len(days) > 1 else 1
        ax.bar(days, [n for _, n in histogram], width=step * 0.9, color=BLUE)
        for value, colour, label in ((p50, GREEN, "P50"), (p85, AMBER, "P85"), (due, RED, labels["due"])):
            if value is not None:
                ax.axvline(mdates.date2num(value), color=colour, linewidth=1.4, label=f"{label} {value:%Y-%m-%d}")
        ax.set_ylabel(labels["draws"])
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        fig.autofmt_xdate(rotation=30)
        ax.legend(fontsize=7)
        return _png(fig)


def horizontal_bars(items: Sequence[tuple[str, float]], *, xlabel: str, colours: Sequence[str] | None = None,
                    reference: float | None = None, reference_label: str = "") -> bytes | None:
    """One labelled horizontal bar per item (every label shown), highest first as given."""
    items = list(items)[:MAX_BARS]
    if len(items) < 2:
        return None
    with _lock:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(7.2, max(1.6, 0.3 * len(items) + 0.8)))
        ax.barh(range(len(items)), [v for _, v in items], color=list(colours) if colours else BLUE, height=0.6)
        ax.set_yticks(range(len(items)), [name[:40] for name, _ in items])
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        if reference is not None:
            ax.axvline(reference, color=RED, linestyle="--", linewidth=1.2, label=reference_label)
            ax.legend(fontsize=7)
        return _png(fig)


def target_vs_actual(items: Sequence[tuple[str, float, float, float | None]], *,
                     labels: dict[str, str]) -> bytes | None:
    """Per KPI (name, baseline, target, actual): grouped bars of the three, each KPI on its own scale (% of target)."""
    items = list(items)[:MAX_BARS]
    if not items:
        return None
    with _lock:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(7.2, max(1.8, 0.45 * len(items) + 0.9)))
        for i, (_name, baseline, target, actual) in enumerate(items):
            scale = abs(target) or 1.0
            ax.barh(i - 0.25, baseline / scale * 100, height=0.25, color=GREY,
                    label=labels["baseline"] if i == 0 else None)
            ax.barh(i, 100.0, height=0.25, color=GREEN, label=labels["target"] if i == 0 else None)
            if actual is not None:
                ax.barh(i + 0.25, actual / scale * 100, height=0.25, color=BLUE,
                        label=labels["actual"] if i == 0 else None)
        ax.set_yticks(range(len(items)), [name[:40] for name, *_ in items])
        ax.invert_yaxis()
        ax.set_xlabel(labels["axis"])
        ax.legend(fontsize=7, loc="lower right")
        return _png(fig)
