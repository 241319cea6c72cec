"""Agreement benchmark (issue 15): 100,000 items × 3 annotators, target <= 2 s, against a naive pandas peer.

Usage: python benchmarks/label_agreement_bench.py [--items 100000] [--annotators 3] [--classes 5] [--repeat 3]
The table is generated in memory (seeded): each annotator gives the true class with probability 0.7.
- mlpilot: `mlpilot.labeling.agreement.agreement` on the long table (polars), all five figures.
- peer "naive pandas + libraries": the usual notebook code — pivot the long table with pandas, call
  `krippendorff.alpha` on the items × annotators matrix, scikit-learn's `cohen_kappa_score` per pair on the
  masked columns, Fleiss' kappa from a per-item `collections.Counter`, and the consensus with a per-item Python vote.
Both run in this process, mlpilot first then the peer, `--repeat` times each; medians are compared and the
figures of both are checked to agree.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import polars as pl
from sklearn.metrics import cohen_kappa_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from mlpilot.labeling.agreement import agreement  # noqa: E402


def make_table(items: int, annotators: int, classes: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, items)
    item = np.repeat(np.arange(items), annotators)
    who = np.tile(np.arange(annotators), items)
    correct = rng.random(items * annotators) < 0.7
    label = np.where(correct, truth[item], rng.integers(0, classes, items * annotators))
    return pl.DataFrame({"item": item, "annotator": [f"a{i}" for i in who], "label": [f"c{x}" for x in label]})


def naive(frame: pd.DataFrame) -> dict[str, object]:
    wide = frame.pivot(index="item", columns="annotator", values="label")
    codes = {value: i for i, value in enumerate(sorted(frame["label"].unique()))}
    matrix = wide.apply(lambda column: column.map(codes)).to_numpy(dtype=float)
    alpha = krippendorff.alpha(reliability_data=matrix.T, level_of_measurement="nominal")
    pairs = {}
    for a, b in itertools.combinations(range(matrix.shape[1]), 2):
        both = ~np.isnan(matrix[:, a]) & ~np.isnan(matrix[:, b])
        pairs[(wide.columns[a], wide.columns[b])] = cohen_kappa_score(matrix[both, a], matrix[both, b])
    per_item = [Counter(row[~np.isnan(row)]) for row in matrix]
    n = matrix.shape[1]
    observed = np.mean([(sum(c * c for c in counter.values()) - n) / (n * (n - 1)) for counter in per_item])
    totals: Counter[float] = Counter()
    for counter in per_item:
        totals.update(counter)
    expected = sum((count / (len(per_item) * n)) ** 2 for count in totals.values())
    fleiss = (observed - expected) / (1 - expected)
    hits: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for row, counter in zip(matrix, per_item, strict=True):
        top = counter.most_common(2)
        if len(top) > 1 and top[0][1] == top[1][1]:
            continue
        for who, value in zip(wide.columns, row, strict=True):
            seen[who] += 1
            hits[who] += value == top[0][0]
    return {"fleiss_kappa": fleiss, "krippendorff_alpha": alpha, "cohen": pairs,
            "consensus": {who: hits[who] / seen[who] for who in seen}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = make_table(args.items, args.annotators, args.classes)
    as_pandas = table.to_pandas()
    ours, theirs = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = agreement(table, item="item", annotator="annotator", label="label")
        ours.append(time.perf_counter() - start)
    for _ in range(args.repeat):
        start = time.perf_counter()
        peer = naive(as_pandas)
        theirs.append(time.perf_counter() - start)
    assert abs(report.fleiss_kappa - peer["fleiss_kappa"]) < 1e-9, (report.fleiss_kappa, peer["fleiss_kappa"])
    assert abs(report.krippendorff_alpha - peer["krippendorff_alpha"]) < 1e-9
    for pair in report.cohen_kappa:
        assert abs(pair.kappa - peer["cohen"][(pair.annotator_a, pair.annotator_b)]) < 1e-9
    for row in report.per_annotator:
        assert abs(row.agreement_with_consensus - peer["consensus"][row.annotator]) < 1e-9
    mine, peers = statistics.median(ours), statistics.median(theirs)
    print(f"{args.items:,} items × {args.annotators} annotators, {args.classes} classes "
          f"({table.height:,} label rows)")
    print(f"mlpilot agreement:              {mine:.3f} s (runs {', '.join(f'{t:.3f}' for t in ours)}), "
          f"target <= 2 s: {'met' if mine <= 2 else 'MISSED'}")
    print(f"peer naive pandas + libraries:  {peers:.3f} s (runs {', '.join(f'{t:.3f}' for t in theirs)})")
    print(f"ratio peer / mlpilot: {peers / mine:.1f}x; figures equal: yes "
          f"(fleiss {report.fleiss_kappa:.4f}, alpha {report.krippendorff_alpha:.4f})")


if __name__ == "__main__":
    main()
