"""The agreement figures equal those the libraries give directly; Fleiss' kappa matches the published example."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import polars as pl
import pytest
from sklearn.metrics import cohen_kappa_score

from mlpilot.core.errors import InvalidInput
from mlpilot.labeling.agreement import agreement, box_f1, box_iou, fleiss_kappa, span_f1

# Fleiss (1971) as reproduced on Wikipedia "Fleiss' kappa": 10 subjects, 14 raters, 5 categories; kappa = 0.210.
FLEISS_EXAMPLE = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])


def test_fleiss_matches_the_published_example() -> None:
    assert fleiss_kappa(FLEISS_EXAMPLE) == pytest.approx(0.20993, abs=5e-5)


def test_fleiss_is_undefined_with_unequal_raters_or_one_category() -> None:
    assert fleiss_kappa(np.array([[2, 0], [1, 2]])) is None
    assert fleiss_kappa(np.array([[3, 0], [3, 0]])) is None


def _random_labels(seed: int, n_items: int, annotators: list[str], classes: int, coverage: float) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, n_items)
    rows = []
    for item in range(n_items):
        for who in annotators:
            if rng.random() < coverage:
                label = truth[item] if rng.random() < 0.7 else rng.integers(0, classes)
                rows.append((f"item-{item}", who, f"class-{label}"))
    return pl.DataFrame(rows, schema=["item", "who", "label"], orient="row")


def _matrix(frame: pl.DataFrame) -> tuple[list[str], list[str], np.ndarray]:
    """items × annotators of label codes (nan = not labeled), built the plain way."""
    items = sorted(set(frame["item"]))
    people = sorted(set(frame["who"]))
    labels = sorted(set(frame["label"]))
    matrix = np.full((len(items), len(people)), np.nan)
    for item, who, label in frame.iter_rows():
        matrix[items.index(item), people.index(who)] = labels.index(label)
    return items, people, matrix


@pytest.mark.parametrize("coverage", [1.0, 0.75])
def test_figures_equal_the_libraries_computed_directly(coverage: float) -> None:
    frame = _random_labels(7, 300, ["ann", "bo", "chae", "dan"], 4, coverage)
    report = agreement(frame, item="item", annotator="who", label="label")
    _, people, matrix = _matrix(frame)
    assert report.n_items == matrix.shape[0] and report.n_annotators == 4
    assert report.krippendorff_alpha == pytest.approx(
        krippendorff.alpha(reliability_data=matrix.T, level_of_measurement="nominal"), abs=1e-12)
    expected_pairs = []
    for a, b in itertools.combinations(range(len(people)), 2):
        both = ~np.isnan(matrix[:, a]) & ~np.isnan(matrix[:, b])
        expected_pairs.append((people[a], people[b], cohen_kappa_score(matrix[both, a], matrix[both, b]),
                               int(both.sum())))
    got = [(p.annotator_a, p.annotator_b, p.kappa, p.n_items) for p in report.cohen_kappa]
    assert [g[:2] + (g[3],) for g in got] == [e[:2] + (e[3],) for e in expected_pairs]
    for g, e in zip(got, expected_pairs, strict=True):
        assert g[2] == pytest.approx(e[2], abs=1e-12)
    # Fleiss on the items with the modal rater count, from a count matrix built row by row.
    raters = (~np.isnan(matrix)).sum(axis=1)
    values, frequency = np.unique(raters[raters >= 2], return_counts=True)
    modal = values[frequency == frequency.max()].max()
    counts = np.array([[np.sum(row == k) for k in range(4)] for row in matrix[raters == modal]])
    assert report.fleiss_raters == modal and report.fleiss_items == len(counts)
    assert report.fleiss_kappa == pytest.approx(fleiss_kappa(counts), abs=1e-12)
    assert (report.fleiss_items < report.n_items) == (coverage < 1) == bool(report.notes)


def test_agreement_with_consensus_by_hand() -> None:
    frame = pl.DataFrame({
        "item": [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5],
        "who": ["a", "b", "c", "a", "b", "c", "a", "b", "a", "b", "c", "a"],
        "label": ["x", "x", "y", "y", "y", "y", "x", "y", "x", "x", "x", "x"],
    })
    report = agreement(frame, item="item", annotator="who", label="label")
    # Item 3 is a tie and item 5 has one rater: neither has a consensus.
    per = {row.annotator: (row.agreement_with_consensus, row.n_items) for row in report.per_annotator}
    assert per == {"a": (1.0, 3), "b": (1.0, 3), "c": (pytest.approx(2 / 3), 3)}
    contract = report.contract()
    assert list(contract) == ["fleiss_kappa", "krippendorff_alpha", "cohen_kappa", "per_annotator", "n_items",
                              "n_annotators"]
    assert contract["n_items"] == 5


def test_skipped_rows_without_a_label_are_left_out() -> None:
    frame = pl.DataFrame({"item": [1, 1, 2, 2], "who": ["a", "b", "a", "b"], "label": ["x", None, "y", "y"]})
    report = agreement(frame, item="item", annotator="who", label="label")
    assert report.n_items == 2 and [p.n_items for p in report.cohen_kappa] == [1]


@pytest.mark.parametrize(("frame", "message"), [
    (pl.DataFrame({"item": [1], "who": ["a"], "label": ["x"]}), "at least 2"),
    (pl.DataFrame({"item": [1, 1], "who": ["a", "a"], "label": ["x", "y"]}), "at least 2"),
    (pl.DataFrame({"item": [1, 1, 1], "who": ["a", "b", "a"], "label": ["x", "y", "x"]}), "more than once"),
    (pl.DataFrame({"item": [1, None], "who": ["a", "b"], "label": ["x", "y"]}), "'item' is empty on labeled row 2"),
    (pl.DataFrame({"item": [1], "annotator": ["a"], "label": ["x"]}), "--annotator: column 'who'"),
])
def test_bad_tables_are_refused_with_the_column_named(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        agreement(frame, item="item", annotator="who", label="label")


def test_span_f1_is_exact_match() -> None:
    gold = [(0, 5, "PER"), (10, 14, "ORG"), (20, 25, "LOC")]
    score = span_f1(gold, [(0, 5, "PER"), (10, 14, "LOC"), (30, 31, "LOC")])
    assert (score.precision, score.recall) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert span_f1([], []).f1 == 1.0 and span_f1(gold, []).f1 == 0.0


def test_box_iou_and_matching() -> None:
    assert box_iou((0, 0, 2, 2), (1, 1, 3, 3)) == pytest.approx(1 / 7)
    assert box_iou((0, 0, 1, 1), (1, 1, 2, 2)) == 0.0
    assert box_iou((0, 0, 2, 2), (0, 0, 2, 2)) == 1.0
    reference = [((0, 0, 10, 10), "car"), ((20, 20, 30, 30), "car")]
    candidate = [((1, 1, 10, 10), "car"), ((20, 20, 30, 30), "person")]
    score = box_f1(reference, candidate)
    assert (score.precision, score.recall, score.f1) == (0.5, 0.5, 0.5)
