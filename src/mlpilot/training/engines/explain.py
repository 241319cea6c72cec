"""Engine-agnostic global explanations: model reliance by shuffling one input column at a time.

Needs no labels: the importance of a column is how far predictions move (mean absolute change of the
probabilities, or of the values scaled by their spread) when that column's values are permuted across rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl


def model_reliance(predict: Callable[[pl.DataFrame], np.ndarray], frame: pl.DataFrame, columns: list[str], *,
                   max_rows: int = 1000, seed: int = 0) -> dict[str, float]:
    """Return {column: importance} normalised to sum 1 (all zero if nothing moves), largest first."""
    if frame.height == 0:
        return {c: 0.0 for c in columns}
    sample = frame.sample(n=min(max_rows, frame.height), seed=seed) if frame.height > max_rows else frame
    base = np.asarray(predict(sample), dtype=np.float64)
    spread = float(np.std(base)) if base.ndim == 1 else 1.0
    rng = np.random.default_rng(seed)
    raw: dict[str, float] = {}
    for column in columns:
        if column not in sample.columns:
            raw[column] = 0.0
            continue
        order = rng.permutation(sample.height)
        shuffled = sample.with_columns(sample[column].gather(order).alias(column))
        moved = np.asarray(predict(shuffled), dtype=np.float64)
        change = np.abs(moved - base)
        value = float(change.sum(axis=1).mean() / 2) if change.ndim == 2 else float(change.mean() / (spread or 1.0))
        raw[column] = value if np.isfinite(value) else 0.0
    total = sum(raw.values())
    normalised = {c: (v / total if total > 0 else 0.0) for c, v in raw.items()}
    return dict(sorted(normalised.items(), key=lambda item: -item[1]))
