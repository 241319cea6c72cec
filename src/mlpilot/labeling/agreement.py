"""Agreement between annotators over a long table of labels (one row per item, annotator and label).

Krippendorff's alpha comes from the `krippendorff` package and Cohen's kappa from scikit-learn; Fleiss' kappa is
computed here with numpy (statsmodels is not a dependency) and tested against Fleiss' (1971) published example.
Everything is vectorised over integer codes, so 100,000 items × 3 annotators take well under a second.

Definitions (docs/labeling.md repeats them):
- Fleiss' kappa needs the same number of raters on every item. Items are restricted to the most common rater count
  (the larger one on a tie) among items with at least two raters; `fleiss_items` and `fleiss_raters` say which.
- The consensus of an item is its most frequent label when that label is unique, among items with two or more
  raters; an annotator's agreement with the consensus is the share of their consensus items where they gave it
  (their own label counts in the vote, as in a plain majority vote).
- Pairwise Cohen's kappa is computed on the items both annotators labeled; None when it is undefined (no shared
  item, or both used a single identical label throughout).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import krippendorff
import numpy as np
import polars as pl
from sklearn.metrics import cohen_kappa_score

from mlpilot.core.errors import InvalidInput

# Bound on the co-rated (item, annotator pair) rows the pairwise kappas enumerate: memory stays under ~1 GB.
MAX_PAIR_ROWS = 30_000_000
MAX_ANNOTATORS = 1_000


@dataclass(frozen=True)
class PairKappa:
    annotator_a: str
    annotator_b: str
    kappa: float | None
    n_items: int


@dataclass(frozen=True)
class AnnotatorAgreement:
    annotator: str
    agreement_with_consensus: float | None
    n_items: int


@dataclass(frozen=True)
class AgreementReport:
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    cohen_kappa: list[PairKappa]
    per_annotator: list[AnnotatorAgreement]
    n_items: int
    n_annotators: int
    # How Fleiss' kappa was restricted: the rater count it used and how many items had that count.
    fleiss_raters: int = 0
    fleiss_items: int = 0
    notes: list[str] = field(default_factory=list)

    def contract(self) -> dict[str, object]:
        """The fixed JSON shape of `mlpilot label agreement --json`."""
        return {
            "fleiss_kappa": self.fleiss_kappa,
            "krippendorff_alpha": self.krippendorff_alpha,
            "cohen_kappa": [vars(pair) for pair in self.cohen_kappa],
            "per_annotator": [vars(row) for row in self.per_annotator],
            "n_items": self.n_items,
            "n_annotators": self.n_annotators,
        }


@dataclass(frozen=True)
class Coded:
    """The long table as integer codes: row i says annotator `annotators[i]` gave `labels[i]` to `items[i]`."""
    items: np.ndarray
    annotators: np.ndarray
    labels: np.ndarray
    annotator_names: list[str]
    n_items: int
    n_labels: int


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _codes(column: pl.Series) -> tuple[np.ndarray, list[str]]:
    """Dense integer codes of a column (by sorted text value) and the values they stand for."""
    text = column.cast(pl.Utf8)
    codes = (text.rank("dense") - 1).cast(pl.Int64).to_numpy()
    return codes, text.unique().sort().to_list()


def code_table(frame: pl.DataFrame, *, item: str, annotator: str, label: str) -> Coded:
    """Validate the columns and code them; rows without a label are skips and are left out."""
    for role, name in (("--item", item), ("--annotator", annotator), ("--label", label)):
        if name not in frame.columns:
            raise InvalidInput(f"{role}: column {name!r} is not in the file (columns: {', '.join(frame.columns)}).")
    frame = frame.select(item, annotator, label).filter(pl.col(label).is_not_null())
    for role, name in (("--item", item), ("--annotator", annotator)):
        missing = frame[name].is_null().arg_true()
        if len(missing):
            raise InvalidInput(f"{role}: column {name!r} is empty on labeled row {int(missing[0]) + 1}.")
    items, _ = _codes(frame[item])
    annotators, annotator_names = _codes(frame[annotator])
    labels, label_names = _codes(frame[label])
    if len(annotator_names) < 2:
        raise InvalidInput(f"--annotator: column {annotator!r} names {len(annotator_names)} annotator(s); "
                           "agreement needs at least 2.")
    if len(annotator_names) > MAX_ANNOTATORS:
        raise InvalidInput(f"--annotator: {len(annotator_names)} annotators; at most {MAX_ANNOTATORS} are supported.")
    n_items = int(items.max()) + 1 if len(items) else 0
    _refuse_duplicates(frame, items, annotators, len(annotator_names), item=item, annotator=annotator)
    return Coded(items, annotators, labels, annotator_names, n_items, len(label_names))


def _refuse_duplicates(frame: pl.DataFrame, items: np.ndarray, annotators: np.ndarray, n_annotators: int,
                       *, item: str, annotator: str) -> None:
    keys = items * n_annotators + annotators
    order = np.argsort(keys, kind="stable")
    repeated = np.flatnonzero(keys[order][1:] == keys[order][:-1])
    if len(repeated):
        row = int(order[repeated[0] + 1])
        raise InvalidInput(f"{annotator!r} {frame[annotator][row]!r} labeled {item!r} {frame[item][row]!r} more than "
                           "once; keep one label per item and annotator.")


def label_counts(coded: Coded) -> np.ndarray:
    """The items × labels matrix of how many annotators gave each label to each item."""
    flat = np.bincount(coded.items * coded.n_labels + coded.labels, minlength=coded.n_items * coded.n_labels)
    return flat.reshape(coded.n_items, coded.n_labels)


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa of an items × categories count matrix whose rows all sum to the same rater count."""
    raters = counts.sum(axis=1)
    if len(counts) == 0 or raters.min() != raters.max() or raters[0] < 2:
        return None
    n = float(raters[0])
    observed = float(((counts * (counts - 1)).sum(axis=1) / (n * (n - 1))).mean())
    shares = counts.sum(axis=0) / counts.sum()
    expected = float((shares**2).sum())
    return None if expected >= 1.0 else (observed - expected) / (1.0 - expected)


def _fleiss_subset(counts: np.ndarray) -> tuple[np.ndarray, int]:
    """The rows rated by the modal rater count (>= 2; the larger count on a tie) and that count."""
    raters = counts.sum(axis=1)
    frequency = np.bincount(raters)
    frequency[:2] = 0
    if not frequency.any():
        return counts[:0], 0
    modal = int(len(frequency) - 1 - np.argmax(frequency[::-1]))
    return counts[raters == modal], modal


def krippendorff_alpha(counts: np.ndarray) -> float | None:
    """Nominal Krippendorff's alpha from the items × labels counts (items with fewer than 2 labels do not pair)."""
    pairable = counts[counts.sum(axis=1) >= 2]
    if len(pairable) == 0 or np.count_nonzero(pairable.sum(axis=0)) < 2:
        return None  # a single label in use: alpha is undefined
    return _finite(krippendorff.alpha(value_counts=pairable, level_of_measurement="nominal"))


def pairwise_cohen(coded: Coded) -> list[PairKappa]:
    """Cohen's kappa for every pair of annotators that share at least one item (scikit-learn per pair)."""
    order = np.lexsort((coded.annotators, coded.items))
    items, annotators, labels = coded.items[order], coded.annotators[order], coded.labels[order]
    max_raters = int(np.bincount(items).max()) if len(items) else 0
    first, second, label_a, label_b = [], [], [], []
    total = 0
    for shift in range(1, max_raters):  # row i pairs with row i+shift when both rate the same item
        same = np.flatnonzero(items[shift:] == items[:-shift])
        total += len(same)
        if total > MAX_PAIR_ROWS:
            raise InvalidInput(f"Too many co-rated pairs for pairwise Cohen's kappa (over {MAX_PAIR_ROWS:,}); "
                               "split the table by batch.")
        first.append(annotators[same])
        second.append(annotators[same + shift])
        label_a.append(labels[same])
        label_b.append(labels[same + shift])
    if not first:
        return []
    a, b = np.concatenate(first), np.concatenate(second)
    la, lb = np.concatenate(label_a), np.concatenate(label_b)
    n_annotators = len(coded.annotator_names)
    pair = a * n_annotators + b
    order = np.argsort(pair, kind="stable")
    pair, la, lb = pair[order], la[order], lb[order]
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    ends = np.r_[starts[1:], len(pair)]
    names = coded.annotator_names
    result = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined (0/0) when both annotators used one identical label: None
        for start, end in zip(starts, ends, strict=True):
            key = int(pair[start])
            kappa = cohen_kappa_score(la[start:end], lb[start:end])
            result.append(PairKappa(names[key // n_annotators], names[key % n_annotators],
                                    _finite(float(kappa)), int(end - start)))
    return result


def consensus_agreement(coded: Coded, counts: np.ndarray) -> list[AnnotatorAgreement]:
    """Each annotator's share of agreement with the unique majority label of items with two or more raters."""
    top = counts.max(axis=1)
    has_consensus = (counts.sum(axis=1) >= 2) & ((counts == top[:, None]).sum(axis=1) == 1)
    consensus = counts.argmax(axis=1)
    counted = has_consensus[coded.items]
    agrees = counted & (coded.labels == consensus[coded.items])
    n_annotators = len(coded.annotator_names)
    totals = np.bincount(coded.annotators[counted], minlength=n_annotators)
    hits = np.bincount(coded.annotators[agrees], minlength=n_annotators)
    return [AnnotatorAgreement(name, float(hits[i] / totals[i]) if totals[i] else None, int(totals[i]))
            for i, name in enumerate(coded.annotator_names)]


def agreement(frame: pl.DataFrame, *, item: str, annotator: str, label: str) -> AgreementReport:
    """All the agreement figures of a long label table."""
    coded = code_table(frame, item=item, annotator=annotator, label=label)
    counts = label_counts(coded)
    subset, raters = _fleiss_subset(counts)
    notes = []
    if raters and len(subset) < coded.n_items:
        notes.append(f"Fleiss' kappa uses the {len(subset):,} of {coded.n_items:,} items rated by exactly {raters} "
                     "annotators (it needs an equal rater count); the other figures use every item.")
    return AgreementReport(
        fleiss_kappa=_finite_or_none(fleiss_kappa(subset)),
        krippendorff_alpha=krippendorff_alpha(counts),
        cohen_kappa=pairwise_cohen(coded),
        per_annotator=consensus_agreement(coded, counts),
        n_items=coded.n_items, n_annotators=len(coded.annotator_names),
        fleiss_raters=raters, fleiss_items=len(subset), notes=notes)


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None else _finite(value)


# --- spans and boxes -------------------------------------------------------------------------------------------

Span = tuple[int, int, str]  # start (inclusive), end (exclusive), entity type
Box = tuple[float, float, float, float]  # x_min, y_min, x_max, y_max


@dataclass(frozen=True)
class MatchScore:
    precision: float
    recall: float
    f1: float


def _score(matched: int, n_reference: int, n_candidate: int) -> MatchScore:
    precision = matched / n_candidate if n_candidate else (1.0 if not n_reference else 0.0)
    recall = matched / n_reference if n_reference else (1.0 if not n_candidate else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return MatchScore(precision, recall, f1)


def span_f1(reference: Sequence[Span], candidate: Sequence[Span]) -> MatchScore:
    """Exact-match entity F1: a span counts when its start, end and type are all equal."""
    ref, cand = set(reference), set(candidate)
    return _score(len(ref & cand), len(ref), len(cand))


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two axis-aligned boxes (0 when they do not overlap or have no area)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_f1(reference: Sequence[tuple[Box, str]], candidate: Sequence[tuple[Box, str]],
           threshold: float = 0.5) -> MatchScore:
    """Boxes matched one to one, greedily by highest IoU, when labels are equal and IoU >= threshold."""
    scored = sorted(((box_iou(rb, cb), i, j) for i, (rb, rl) in enumerate(reference)
                     for j, (cb, cl) in enumerate(candidate) if rl == cl), reverse=True)
    used_ref: set[int] = set()
    used_cand: set[int] = set()
    for iou, i, j in scored:
        if iou >= threshold and i not in used_ref and j not in used_cand:
            used_ref.add(i)
            used_cand.add(j)
    return _score(len(used_ref), len(reference), len(candidate))
