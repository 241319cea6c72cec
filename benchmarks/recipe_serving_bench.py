"""Serving with a recipe's row-wise steps: single-row latency and rows/s of the data plane's pipeline, with and
without the steps, on the same models, in one run.

Usage: PYTHONPATH=src:. python benchmarks/recipe_serving_bench.py [--requests 4000] [--json OUT]

Two models (tests.dataplane.factories): a numeric regressor (fast path: the steps fill missing numbers on the float
matrix) and a classifier with a text column (frame path: the steps run on a Polars frame of the request). Each is
loaded twice into one DataPlane — as trained, and with frozen row-wise steps next to it — and answers the same
1-row JSON requests (`InferenceCall.run`, the code every HTTP front door calls), half of them with a blank the
steps fill. Prints microseconds per request (median and p99 of batches) and the ratio with/without steps.
The peer is the same data plane without steps: the figure is what carrying the recipe costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from tests.dataplane.factories import make_churn_model, make_regression_model

from mlpilot.dataplane.pipeline import InferenceCall
from mlpilot.dataplane.server import DataPlane
from mlpilot.recipes.rowwise import FrozenRecipe, write_row_steps
from mlpilot.settings import ServingSettings

REG_STEPS = [{"op": "impute", "columns": ["x"], "strategy": "constant", "value": 0.25}]
CHURN_STEPS = [{"op": "impute", "columns": ["charges"], "strategy": "constant", "value": 50.0},
               {"op": "map_values", "column": "plan", "mapping": {"std": "basic"}},
               {"op": "normalize_text", "columns": ["plan"], "case": "lower"}]


def timed(plane: DataPlane, name: str, bodies: list[bytes], requests: int) -> dict[str, float]:
    for body in bodies[:50]:
        InferenceCall(plane, name, body, wire="records").run()
    batch = 100
    per: list[float] = []
    started = time.perf_counter()
    for start in range(0, requests, batch):
        t0 = time.perf_counter()
        for i in range(start, start + batch):
            InferenceCall(plane, name, bodies[i % len(bodies)], wire="records").run()
        per.append((time.perf_counter() - t0) / batch * 1e6)
    total = time.perf_counter() - started
    per.sort()
    return {"us_median": round(statistics.median(per), 1), "us_p99": round(per[int(len(per) * 0.99) - 1], 1),
            "req_per_s": round(requests / total)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--json", type=Path)
    a = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="recipe-bench-"))
    plane = DataPlane(ServingSettings(), sink=None)
    results: dict[str, Any] = {}
    cases = [("numeric (matrix fast path)", make_regression_model, REG_STEPS,
              [{"x": 0.5, "k": 2}, {"x": 1.5, "k": 1}], [{"x": None, "k": 2}, {"x": 1.5, "k": 1}]),
             ("text column (frame path)", make_churn_model, CHURN_STEPS,
              [{"tenure": 5.0, "charges": 70.0, "plan": "basic", "paperless": True}] * 2,
              [{"tenure": 5.0, "charges": None, "plan": "std", "paperless": True},
               {"tenure": 5.0, "charges": 70.0, "plan": " Basic", "paperless": True}])]
    for label, make, steps, plain_rows, blank_rows in cases:
        plain_dir, steps_dir = make(work / f"{label[:4]}-plain"), make(work / f"{label[:4]}-steps")
        write_row_steps(steps_dir, FrozenRecipe(steps=steps))
        plane.load("plain", plain_dir, "1")
        plane.load("steps", steps_dir, "1")
        plain = [orjson.dumps({"records": [r]}) for r in plain_rows]
        with_blanks = [orjson.dumps({"records": [r]}) for r in blank_rows]
        before = timed(plane, "plain", plain, a.requests)
        after = timed(plane, "steps", with_blanks, a.requests)
        results[label] = {"without_steps": before, "with_steps": after,
                          "latency_ratio": round(after["us_median"] / before["us_median"], 2)}
        print(f"{label}: without steps {before['us_median']} µs/request (p99 {before['us_p99']}, "
              f"{before['req_per_s']} req/s); with steps {after['us_median']} µs (p99 {after['us_p99']}, "
              f"{after['req_per_s']} req/s); ratio {results[label]['latency_ratio']}x")
    if a.json:
        a.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
