"""Input drift between a reference and a current table: one statistical test per column, pure Polars/numpy/scipy.

Column types and tests follow Evidently's DataDriftPreset defaults so both flag the same columns: types are
inferred on the current table; above 1,000 reference values a numeric column is tested with the Wasserstein
distance normed by the reference std (drift at ≥ 0.1) and a categorical one with the Jensen–Shannon distance
(≥ 0.1); up to 1,000 values K–S (p ≤ 0.05) for numeric and chi-squared (p < 0.05; a proportion z-test when
there are two values) for categorical; free text with a TF-IDF domain classifier's ROC AUC. PSI, the K–S
statistic (numeric) and chi-squared (categorical) are always reported too. Numeric columns are sorted once and
everything else is vectorised; the statistics are exact (checked against scipy).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from scipy.spatial import distance

from mlpilot.core.errors import InvalidInput

SMALL_SAMPLE = 1000  # Evidently switches to K–S / chi-squared at or below this many reference values
INTEGER_CARDINALITY_LIMIT = 10  # integer columns with at most this many values are categorical (as Evidently)
TEXT_UNIQUE_SHARE = 0.5  # string columns with more distinct values than this share of rows are free text
DRIFT_SHARE = 0.5
PSI_BINS = 10
METHODS = ("auto", "wasserstein", "ks", "jensenshannon", "chisquare", "z", "psi", "text_content",
           "text_content_percentile")
# Tests whose score is a p-value (drift when small); the others are distances (drift when large).
P_VALUE_METHODS = ("ks", "chisquare", "z")
DEFAULT_THRESHOLDS = {"wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.1, "ks": 0.05, "chisquare": 0.05,
                      "z": 0.05, "text_content": 0.55, "text_content_percentile": 0.95}
ALLOWED_METHODS = {"numeric": ("wasserstein", "ks", "jensenshannon", "psi"),
                   "categorical": ("jensenshannon", "chisquare", "z", "psi"),
                   "text": ("text_content", "text_content_percentile")}
COLUMN_TYPES = ("numeric", "categorical", "text")
# Above this many values in both samples the K–S statistic comes from a refined grid instead of a full merge.
KS_GRID_MIN_VALUES = 100_000
KS_GRID_POINTS = 1 << 12


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    column_type: str
    method: str
    threshold: float
    score: float
    drift_detected: bool
    reference_values: int
    current_values: int
    reference_missing_share: float
    current_missing_share: float
    missing_share_change: float
    psi: float | None
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    wasserstein_normed: float | None = None
    chi2_statistic: float | None = None
    chi2_p_value: float | None = None
    jensenshannon: float | None = None


@dataclass(frozen=True)
class DriftReport:
    reference_rows: int
    current_rows: int
    columns: list[ColumnDrift]
    drift_share: float = DRIFT_SHARE
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drift_detected]

    @property
    def share_drifted(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.columns) and self.share_drifted >= self.drift_share

    def column(self, name: str) -> ColumnDrift:
        for item in self.columns:
            if item.column == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"reference_rows": self.reference_rows, "current_rows": self.current_rows,
                "dataset_drift": self.dataset_drift, "drift_share": self.drift_share,
                "share_drifted": self.share_drifted, "drifted_columns": self.drifted_columns,
                "columns": [{k: _json_float(v) for k, v in asdict(c).items()} for c in self.columns],
                "skipped": dict(self.skipped)}


def _json_float(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


# ---------------------------------------------------------------------------------------------------------------
# Column types


def infer_column_type(series: pl.Series) -> str:
    """Return numeric, categorical, text, datetime or unknown for a column, as Evidently infers it."""
    return _infer(series)[0]


def _infer(series: pl.Series) -> tuple[str, pl.DataFrame | None]:
    # Also returns the column's value counts when deciding needed them, so the categorical test reuses them.
    dtype = series.dtype
    if dtype.is_float():
        return "numeric", None
    if dtype.is_integer():
        # pandas reads an integer column with missing values as float, which Evidently calls numeric.
        if series.null_count() or series.head(10_000).n_unique() > INTEGER_CARDINALITY_LIMIT:
            return "numeric", None
        counts = _value_counts(series)
        return ("categorical", counts) if counts.height <= INTEGER_CARDINALITY_LIMIT else ("numeric", None)
    if dtype == pl.Boolean or dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return "categorical", None
    if dtype == pl.String:
        counts = _value_counts(series)
        if counts.height == 0:
            return "unknown", None
        present = series.len() - series.null_count()
        return ("text", None) if counts.height > present * TEXT_UNIQUE_SHARE else ("categorical", counts)
    if dtype.is_temporal():
        return "datetime", None
    return "unknown", None


def _value_counts(series: pl.Series) -> pl.DataFrame:
    return series.drop_nulls().value_counts(name="n")


# ---------------------------------------------------------------------------------------------------------------
# Exact statistics over sorted samples (also usable on their own)


def wasserstein_distance_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """Return the 1-Wasserstein distance between two sorted samples (equal to scipy.stats.wasserstein_distance)."""
    n1, n2 = len(a), len(b)
    if n1 == n2:
        return float(np.mean(np.abs(a - b)))
    # W1 = ∫|Qa(u) - Qb(u)| du; both quantile functions step on the merged grid {i/n1} ∪ {j/n2}.
    ia, ib, widths = _quantile_grid(n1, n2)
    return float(np.dot(widths, np.abs(a[ia] - b[ib])))


@lru_cache(maxsize=8)
def _quantile_grid(n1: int, n2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    i, j = np.arange(n1, dtype=np.int64), np.arange(n2, dtype=np.int64)
    # Rank of a's breakpoint (i+1)/n1 and b's (j+1)/n2 among all of them, a's first on ties; the quantile index
    # of each sample on a segment is how many of its own breakpoints come before the segment's end.
    pos_a = i + ((i + 1) * n2 - 1) // n1
    pos_b = j + ((j + 1) * n1) // n2
    u, ia, ib = np.empty(n1 + n2), np.empty(n1 + n2, np.int64), np.empty(n1 + n2, np.int64)
    u[pos_a], u[pos_b] = (i + 1) / n1, (j + 1) / n2
    ia[pos_a], ia[pos_b] = i, np.minimum(pos_b - j, n1 - 1)
    ib[pos_a], ib[pos_b] = pos_a - i, j
    widths = np.diff(u, prepend=0.0)
    for array in (ia, ib, widths):
        array.flags.writeable = False
    return ia, ib, widths


def ks_statistic_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """Return the two-sample Kolmogorov–Smirnov statistic of two sorted samples (as scipy.stats.ks_2samp)."""
    n1, n2 = len(a), len(b)
    if n1 + n2 < KS_GRID_MIN_VALUES:
        return _ks_at(a, b, np.concatenate([a, b]))
    # Evaluate the CDFs on a grid of quantiles, bound the difference inside each cell between grid points, and
    # look at the values only in the few cells whose bound beats the best grid value: exact, without a full merge.
    grid = np.unique(np.concatenate([a[np.linspace(0, n1 - 1, KS_GRID_POINTS).astype(np.int64)],
                                     b[np.linspace(0, n2 - 1, KS_GRID_POINTS).astype(np.int64)]]))
    a_le, a_lt = np.searchsorted(a, grid, "right"), np.searchsorted(a, grid, "left")
    b_le, b_lt = np.searchsorted(b, grid, "right"), np.searchsorted(b, grid, "left")
    best = float(np.max(np.abs(a_le / n1 - b_le / n2)))
    a_lo, a_hi = np.concatenate([[0], a_le]), np.concatenate([a_lt, [n1]])
    b_lo, b_hi = np.concatenate([[0], b_le]), np.concatenate([b_lt, [n2]])
    bound = np.maximum(a_hi / n1 - b_lo / n2, b_hi / n2 - a_lo / n1)
    cells = bound > best - 1e-12
    values = np.concatenate([_ranges(a, a_lo[cells], a_hi[cells]), _ranges(b, b_lo[cells], b_hi[cells])])
    if len(values):
        best = max(best, _ks_at(a, b, values))
    return best


def _ks_at(a: np.ndarray, b: np.ndarray, points: np.ndarray) -> float:
    diff = np.searchsorted(a, points, "right") / len(a) - np.searchsorted(b, points, "right") / len(b)
    return float(np.max(np.abs(diff)))


def _ranges(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return values[:0]
    offsets = np.cumsum(lengths) - lengths
    picked: np.ndarray = values[np.arange(total) + np.repeat(starts - offsets, lengths)]
    return picked


def ks_test_sorted(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Return the two-sided K–S statistic and p-value of two sorted samples (scipy's ks_2samp up to 10,000)."""
    n1, n2 = len(a), len(b)
    if max(n1, n2) <= 10_000:
        result = stats.ks_2samp(a, b)
        return float(result.statistic), float(result.pvalue)
    d = ks_statistic_sorted(a, b)
    # scipy takes kstwo.sf(d, round(n1·n2/(n1+n2))) here, which needs seconds at a million values; its limit,
    # the Kolmogorov distribution of d·√n, agrees to O(1/√n) and costs nothing (only the decision of a forced
    # "ks" test on a large sample uses this p-value).
    p = float(np.clip(stats.kstwobign.sf(d * math.sqrt(n1 * n2 / (n1 + n2))), 0, 1))
    return d, p


def _fill_zeros(shares: np.ndarray) -> np.ndarray:
    # Evidently's rule, so PSI stays finite when a bin or category is empty on one side.
    nonzero = shares[shares != 0]
    if len(nonzero) == 0:
        return shares
    low = nonzero.min()
    return np.where(shares == 0, low / 10**6 if low <= 0.0001 else 0.0001, shares)


def psi(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """Return the population stability index of two share vectors over the same bins."""
    ref, cur = _fill_zeros(np.asarray(reference_shares, float)), _fill_zeros(np.asarray(current_shares, float))
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _psi_numeric(a: np.ndarray, b: np.ndarray) -> float:
    # Bins cut at the reference deciles; ties collapse bins rather than leaving empty ones.
    positions = np.linspace(0, len(a) - 1, PSI_BINS + 1)[1:-1]
    lo = np.floor(positions).astype(np.int64)
    hi = np.minimum(lo + 1, len(a) - 1)
    edges = np.unique(a[lo] + (positions - lo) * (a[hi] - a[lo]))
    ref = np.diff(np.concatenate([[0], np.searchsorted(a, edges, "right"), [len(a)]])) / len(a)
    cur = np.diff(np.concatenate([[0], np.searchsorted(b, edges, "right"), [len(b)]])) / len(b)
    return psi(ref, cur)


def _chi_square(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    # Expected counts are the reference's scaled to the current size (Evidently's and scipy's chisquare).
    if len(ref_counts) < 2:
        return 0.0, 1.0
    expected = ref_counts * (cur_counts.sum() / ref_counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (cur_counts - expected) ** 2 / expected,
                         np.where(cur_counts > 0, np.inf, 0.0))
    statistic = float(terms.sum())
    return statistic, float(stats.chi2.sf(statistic, len(ref_counts) - 1))


def _z_test(keys: Sequence[Any], ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    # Evidently's two-proportion z-test: the share of values other than the smallest key.
    if len(keys) == 1:
        return 1.0
    first = min(range(len(keys)), key=lambda k: keys[k])
    n1, n2 = ref_counts.sum(), cur_counts.sum()
    p1, p2 = (n1 - ref_counts[first]) / n1, (n2 - cur_counts[first]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * (1 - stats.norm.cdf(abs(z))))


def _jensenshannon(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    return float(distance.jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()))


def _sturges_shares(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Evidently bins a many-valued numeric column for Jensen–Shannon on Sturges edges over both samples.
    lo, hi = min(a[0], b[0]), max(a[-1], b[-1])
    edges = np.histogram_bin_edges(np.array([lo, hi]), bins=int(np.ceil(np.log2(len(a) + len(b)) + 1)),
                                   range=(lo, hi))

    def shares(x: np.ndarray) -> np.ndarray:
        cuts = np.searchsorted(x, edges, "left")
        cuts[-1] = len(x)  # the last bin is closed
        return np.diff(cuts) / len(x)

    return shares(a), shares(b)


# ---------------------------------------------------------------------------------------------------------------
# Per-column drift


@dataclass(frozen=True)
class _Plan:
    column: str
    column_type: str
    method: str
    threshold: float | None


def _numeric_values(series: pl.Series) -> tuple[np.ndarray, int]:
    values = series.cast(pl.Float64).to_numpy()
    finite = values[np.isfinite(values)]
    finite.sort()
    return finite, len(values) - len(finite)


def _numeric_drift(plan: _Plan, ref: pl.Series, cur: pl.Series) -> ColumnDrift:
    a, ref_missing = _numeric_values(ref)
    b, cur_missing = _numeric_values(cur)
    _check_not_empty(plan.column, a, b)
    # Evidently treats a numeric column with at most five values in both samples like a categorical one.
    few_values = _distinct_sorted(a, limit=5)
    if few_values is not None:
        few_current = _distinct_sorted(b, limit=5)
        few_values = None if few_current is None else _distinct_sorted(np.union1d(few_values, few_current), limit=5)
    method = plan.method
    if method == "auto":
        if len(a) <= SMALL_SAMPLE:
            method = "ks" if few_values is None else ("chisquare" if len(few_values) > 2 else "z")
        else:
            method = "wasserstein" if few_values is None else "jensenshannon"
    norm = max(float(np.std(a)), 0.001)
    wasserstein = wasserstein_distance_sorted(a, b) / norm
    ks_stat, ks_p = ks_test_sorted(a, b)
    psi_value = _psi_numeric(a, b)
    if method == "wasserstein":
        score = wasserstein
    elif method == "ks":
        score = ks_p
    elif method == "psi":
        score = psi_value
    elif method == "jensenshannon":
        if np.count_nonzero(a[1:] != a[:-1]) + 1 > 20:
            ref_shares, cur_shares = _sturges_shares(a, b)
        else:
            _, ref_shares, cur_shares = _aligned_numeric_counts(a, b)
        score = _jensenshannon(ref_shares, cur_shares)
    else:
        keys, ref_counts, cur_counts = _aligned_numeric_counts(a, b)
        score = (_chi_square(ref_counts, cur_counts)[1] if method == "chisquare"
                 else _z_test(list(keys), ref_counts, cur_counts))
    return _result(plan, method, score, a_len=len(a), b_len=len(b), ref_missing=ref_missing,
                   cur_missing=cur_missing, psi_value=psi_value, ks_statistic=ks_stat, ks_p_value=ks_p,
                   wasserstein_normed=wasserstein)


def _distinct_sorted(x: np.ndarray, *, limit: int) -> np.ndarray | None:
    """Return the distinct values of a sorted array, or None when there are more than `limit`."""
    if len(x) == 0:
        return x
    starts = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))
    return x[starts] if len(starts) <= limit else None


def _aligned_numeric_counts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = np.union1d(np.unique(a), np.unique(b))
    ref = np.diff(np.searchsorted(a, keys, "left"), append=len(a)).astype(float)
    cur = np.diff(np.searchsorted(b, keys, "left"), append=len(b)).astype(float)
    return keys, ref, cur


def _categorical_drift(plan: _Plan, ref: pl.Series, cur: pl.Series,
                       cur_counts: pl.DataFrame | None = None) -> ColumnDrift:
    if ref.dtype != cur.dtype:
        common = pl.Float64 if ref.dtype.is_numeric() and cur.dtype.is_numeric() else pl.String
        ref, cur, cur_counts = ref.cast(common), cur.cast(common), None
    if ref.dtype.is_float():  # NaN is missing, as for pandas
        ref, cur, cur_counts = ref.fill_nan(None), cur.fill_nan(None), None
    ref_counts = _value_counts(ref)
    if cur_counts is None:
        cur_counts = _value_counts(cur)
    if ref_counts.height == 0 or cur_counts.height == 0:
        _check_not_empty(plan.column, ref_counts, cur_counts)
    name = ref.name
    joined = ref_counts.join(cur_counts, on=name, how="full", coalesce=True, suffix="_cur").fill_null(0)
    keys = joined[name].to_list()
    r = joined["n"].to_numpy().astype(float)
    c = joined["n_cur"].to_numpy().astype(float)
    method = plan.method
    if method == "auto":
        if r.sum() <= SMALL_SAMPLE:
            method = "chisquare" if len(keys) > 2 else "z"
        else:
            method = "jensenshannon"
    js = _jensenshannon(r, c)
    chi2_stat, chi2_p = _chi_square(r, c)
    psi_value = psi(r / r.sum(), c / c.sum())
    score = {"jensenshannon": js, "chisquare": chi2_p, "psi": psi_value}.get(method)
    if score is None:
        score = _z_test(keys, r, c)
    return _result(plan, method, score, a_len=int(r.sum()), b_len=int(c.sum()), ref_missing=ref.null_count(),
                   cur_missing=cur.null_count(), psi_value=psi_value, chi2_statistic=chi2_stat,
                   chi2_p_value=chi2_p, jensenshannon=js)


def _result(plan: _Plan, method: str, score: float, *, a_len: int, b_len: int, ref_missing: int, cur_missing: int,
            psi_value: float | None, **extra: float) -> ColumnDrift:
    threshold = plan.threshold if plan.threshold is not None else DEFAULT_THRESHOLDS[method]
    if method == "ks":
        detected = score <= threshold
    elif method == "text_content_percentile":
        detected = score > extra.pop("random_auc_percentile")
    elif method == "text_content":
        detected = score > threshold
    elif method in P_VALUE_METHODS:
        detected = score < threshold
    else:
        detected = score >= threshold
    ref_share = ref_missing / (a_len + ref_missing)
    cur_share = cur_missing / (b_len + cur_missing)
    return ColumnDrift(column=plan.column, column_type=plan.column_type, method=method, threshold=threshold,
                       score=float(score), drift_detected=bool(detected), reference_values=a_len,
                       current_values=b_len, reference_missing_share=ref_share, current_missing_share=cur_share,
                       missing_share_change=cur_share - ref_share, psi=psi_value, **extra)


def _text_drift(plan: _Plan, ref: pl.Series, cur: pl.Series) -> ColumnDrift:
    # Evidently's text content drift: how well a TF-IDF + linear classifier tells current texts from reference
    # ones (ROC AUC on a held-out half), against 0.55 or, up to 1,000 texts, the 95th percentile of random AUCs.
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline

    ref_texts, cur_texts = ref.cast(pl.String).drop_nulls(), cur.cast(pl.String).drop_nulls()
    _check_not_empty(plan.column, ref_texts, cur_texts)
    method = plan.method
    if method == "auto":
        method = "text_content" if len(ref_texts) > SMALL_SAMPLE else "text_content_percentile"
    texts = np.array(ref_texts.to_list() + cur_texts.to_list(), dtype=object)
    target = np.concatenate([np.zeros(len(ref_texts), np.int64), np.ones(len(cur_texts), np.int64)])
    x_train, x_test, y_train, y_test = train_test_split(texts, target, test_size=0.5, random_state=42, shuffle=True)
    pipeline = Pipeline([
        ("vectorization", TfidfVectorizer(sublinear_tf=True, max_df=0.5, stop_words="english")),
        ("classification", SGDClassifier(alpha=0.0001, max_iter=50, penalty="l1", loss="modified_huber",
                                          random_state=42)),
    ])
    try:
        with warnings.catch_warnings():  # a short fit that stops at max_iter is Evidently's setting too
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipeline.fit(x_train, y_train)
        auc = float(roc_auc_score(y_test, pipeline.predict_proba(x_test)[:, 1]))
    except ValueError as exc:  # e.g. no words left, or one class only in a tiny sample
        raise InvalidInput(f"Column '{plan.column}' cannot be tested as text: {exc}") from None
    extra: dict[str, float] = {}
    if method == "text_content_percentile":
        threshold = plan.threshold if plan.threshold is not None else DEFAULT_THRESHOLDS[method]
        extra["random_auc_percentile"] = _random_auc_percentile(y_test, 1 - threshold)
    return _result(plan, method, auc, a_len=len(ref_texts), b_len=len(cur_texts), ref_missing=ref.null_count(),
                   cur_missing=cur.null_count(), psi_value=None, **extra)


def _random_auc_percentile(y_test: np.ndarray, p_value: float, iterations: int = 1000, seed: int = 42) -> float:
    # The same seeded random scores as Evidently; the AUCs come from ranks in one vectorised pass.
    seeds = np.random.RandomState(seed).randint(0, iterations * 10, size=iterations)
    scores = np.stack([np.random.RandomState(s).rand(len(y_test)) for s in seeds])
    ranks = scores.argsort(axis=1).argsort(axis=1) + 1
    positives = y_test == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    aucs = (ranks[:, positives].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(np.percentile(aucs, 100 * (1 - p_value)))


def _check_not_empty(column: str, ref: Any, cur: Any) -> None:
    for side, values in (("reference", ref), ("current", cur)):
        if len(values) == 0:
            raise InvalidInput(f"Column '{column}' has no non-missing values in the {side} data; a drift test "
                               "needs at least one value on each side (leave the column out with columns=[...]).")


# ---------------------------------------------------------------------------------------------------------------
# The report


def drift_report(reference: pl.DataFrame | pl.LazyFrame, current: pl.DataFrame | pl.LazyFrame, *,
                 columns: Sequence[str] | None = None, column_types: dict[str, str] | None = None,
                 method: str = "auto", threshold: float | None = None, drift_share: float = DRIFT_SHARE,
                 workers: int | None = None) -> DriftReport:
    """Compare `current` with `reference` column by column and say which columns (and the dataset) drifted.

    `columns` limits the report (default: every column of the current table; both tables must have the same
    columns then); `column_types` overrides the inferred type ("numeric", "categorical" or "text") per column;
    `method` forces one test for every column instead of Evidently's defaults; `threshold` replaces the test's
    default; `workers` is the number of columns computed at once (default: one per core).
    """
    if method not in METHODS:
        raise InvalidInput(f"Unknown drift method '{method}'; expected one of {', '.join(METHODS)}.")
    ref_schema = reference.collect_schema() if isinstance(reference, pl.LazyFrame) else reference.schema
    cur_schema = current.collect_schema() if isinstance(current, pl.LazyFrame) else current.schema
    if columns is None:
        names = list(cur_schema.names())
    else:
        names = list(dict.fromkeys(columns))
        if not names:
            raise InvalidInput("No columns to compare: columns=[] is empty.")
        absent = [n for n in names if n not in cur_schema]
        if absent:
            raise InvalidInput(f"Column(s) {', '.join(repr(n) for n in absent)} are not in the current data.")
    missing_in_ref = [n for n in names if n not in ref_schema]
    if missing_in_ref:
        raise InvalidInput(f"Column(s) {', '.join(repr(n) for n in missing_in_ref)} are in the current data but not "
                           "in the reference data.")
    extra = [n for n in ref_schema.names() if n not in cur_schema] if columns is None else []
    if extra:
        raise InvalidInput(f"Column(s) {', '.join(repr(n) for n in extra)} are in the reference data but not in "
                           "the current data; pass columns=[...] to compare a subset.")
    overrides = dict(column_types or {})
    for name, kind in overrides.items():
        if name not in names:
            raise InvalidInput(f"column_types names column '{name}', which is not compared.")
        if kind not in COLUMN_TYPES:
            raise InvalidInput(f"column_types['{name}'] is '{kind}'; expected one of {', '.join(COLUMN_TYPES)}.")
    ref_frame = _collect(reference, names)
    cur_frame = _collect(current, names)
    if ref_frame.height == 0:
        raise InvalidInput("The reference data has no rows.")
    if cur_frame.height == 0:
        raise InvalidInput("The current data has no rows.")

    def run(name: str) -> ColumnDrift | str:
        cur_counts = None
        kind = overrides.get(name)
        if kind is None:
            kind, cur_counts = _infer(cur_frame[name])
        if kind not in COLUMN_TYPES:
            return {"datetime": "date/time: not tested"}.get(kind, f"type {cur_frame[name].dtype} is not tested")
        if kind == "numeric":
            for side, frame in (("current", cur_frame), ("reference", ref_frame)):
                dtype = frame[name].dtype
                if not (dtype.is_numeric() or dtype == pl.Boolean):
                    raise InvalidInput(f"Column '{name}' is numeric but has type {dtype} in the {side} data; "
                                       "expected numbers on both sides (or set column_types to categorical).")
        if method != "auto" and method not in ALLOWED_METHODS[kind]:
            raise InvalidInput(f"Method '{method}' cannot test {kind} column '{name}'; it takes "
                               f"{', '.join(ALLOWED_METHODS[kind])}.")
        plan = _Plan(name, kind, method, threshold)
        if kind == "numeric":
            return _numeric_drift(plan, ref_frame[name], cur_frame[name])
        if kind == "text":
            return _text_drift(plan, ref_frame[name], cur_frame[name])
        return _categorical_drift(plan, ref_frame[name], cur_frame[name], cur_counts)

    # numpy's sorts and gathers and Polars' hashing release the GIL, so columns run side by side on threads.
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        outcomes = list(pool.map(run, names))
    results = [o for o in outcomes if isinstance(o, ColumnDrift)]
    skipped = {n: o for n, o in zip(names, outcomes, strict=True) if isinstance(o, str)}
    if not results:
        raise InvalidInput("None of the compared columns is numeric, categorical or text: "
                           + "; ".join(f"'{k}': {v}" for k, v in skipped.items()))
    return DriftReport(reference_rows=ref_frame.height, current_rows=cur_frame.height, columns=results,
                       drift_share=drift_share, skipped=skipped)


def _collect(frame: pl.DataFrame | pl.LazyFrame, names: list[str]) -> pl.DataFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame.select(names).collect()
    return frame.select(names)
