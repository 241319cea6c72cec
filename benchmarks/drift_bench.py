"""Drift report benchmark: mlpilot's drift report against Evidently's DataDriftPreset on the same two tables.

Usage: python benchmarks/drift_bench.py --reference REF.parquet --current CUR.parquet
       [--evidently-python /tmp/evidently-venv/bin/python] [--skip-evidently] [--rows N] [--repeat 3] [--json OUT]
Each side runs in its own subprocess after its imports. mlpilot is timed from reading the Parquet files to the
finished report; Evidently's preset is timed like ../shared/bench/data_peers/drift_peers.py (the report run
on frames already read), so the ratio is conservative for mlpilot. Prints seconds, peak RSS, the ratio and
whether both flag the same columns with the same tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any

MLPILOT_RUNNER = r"""
import json, resource, sys, time
import polars as pl
from mlpilot.monitoring.drift import drift_report
ref_path, cur_path, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
read = pl.read_parquet if ref_path.endswith(".parquet") else pl.read_csv
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
c0, t0 = cpu(), time.perf_counter()
ref, cur = read(ref_path), read(cur_path)
if rows:
    ref, cur = ref.head(rows), cur.head(rows)
t1 = time.perf_counter()
report = drift_report(ref, cur)
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t0, "read_seconds": t1 - t0, "report_seconds": t2 - t1, "cpu_seconds": cpu() - c0,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": [ref.height, cur.height], "columns": ref.width,
                  "drifted": report.drifted_columns,
                  "tests": {c.column: [c.method, c.score, c.drift_detected] for c in report.columns}}))
"""

# The same call as drift_peers.py, plus the list of columns Evidently flagged and the test it used for each.
EVIDENTLY_RUNNER = r"""
import json, resource, sys, time
import pandas as pd
ref_path, cur_path, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
read = pd.read_parquet if ref_path.endswith(".parquet") else pd.read_csv
t0 = time.perf_counter()
ref, cur = read(ref_path), read(cur_path)
if rows:
    ref, cur = ref.head(rows), cur.head(rows)
t1 = time.perf_counter()
from evidently import Report
from evidently.presets import DataDriftPreset
t2 = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
result = snapshot.dict()
t3 = time.perf_counter()
p_values = {"K-S p_value": "<=", "chi-square p_value": "<", "Z-test p_value": "<"}
tests = {}
for metric in result["metrics"]:
    config = metric["config"]
    if config.get("type", "").endswith("ValueDrift"):
        method, threshold, score = config["method"], config["threshold"], metric["value"]
        rule = p_values.get(method, ">=")
        drifted = score <= threshold if rule == "<=" else score < threshold if rule == "<" else score >= threshold
        tests[config["column"]] = [method, score, bool(drifted)]
import evidently
print(json.dumps({"seconds": t3 - t2, "read_seconds": t1 - t0,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "version": evidently.__version__, "pandas": pd.__version__,
                  "drifted": [c for c, t in tests.items() if t[2]], "tests": tests}))
"""

# Evidently's display names of the tests mlpilot also names.
EVIDENTLY_METHODS = {"Wasserstein distance (normed)": "wasserstein", "Jensen-Shannon distance": "jensenshannon",
                     "K-S p_value": "ks", "chi-square p_value": "chisquare", "Z-test p_value": "z", "PSI": "psi",
                     "Absolute text content drift": "text_content",
                     "Percentile text content drift": "text_content_percentile"}


def run(python: str, runner: str, reference: str, current: str, rows: int) -> dict[str, Any]:
    done = subprocess.run([python, "-c", runner, reference, current, str(rows)], capture_output=True, text=True,
                          check=False)
    if done.returncode:
        sys.exit(f"{python} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--evidently-python", default="/tmp/evidently-venv/bin/python")
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--rows", type=int, default=0, help="only the first N rows of each table (0 = all)")
    parser.add_argument("--repeat", type=int, default=3, help="mlpilot runs (the median is reported)")
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    runs = [run(sys.executable, MLPILOT_RUNNER, args.reference, args.current, args.rows) for _ in range(args.repeat)]
    seconds = statistics.median(r["seconds"] for r in runs)
    mine = runs[0]
    print(f"load average before: {load:.2f}; tables: {mine['rows'][0]:,} vs {mine['rows'][1]:,} rows × "
          f"{mine['columns']} columns")
    each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    print(f"| mlpilot drift_report (Parquet read + report) | {seconds:.2f} s (median of {len(runs)}; runs "
          f"{each}; read {mine['read_seconds']:.2f} s; CPU {mine['cpu_seconds']:.2f} s) | "
          f"{max(r['peak_rss_mib'] for r in runs):,.0f} MiB |")
    print(f"mlpilot flagged {len(mine['drifted'])} of {len(mine['tests'])}: {', '.join(mine['drifted'])}")
    figures: dict[str, Any] = {"mlpilot": runs, "mlpilot_seconds": seconds, "load_average": load}
    if not args.skip_evidently:
        peer = run(args.evidently_python, EVIDENTLY_RUNNER, args.reference, args.current, args.rows)
        # One more mlpilot run right after the peer, so a change in machine load during the peer's minute
        # shows up in mlpilot's median too.
        runs.append(run(sys.executable, MLPILOT_RUNNER, args.reference, args.current, args.rows))
        seconds = statistics.median(r["seconds"] for r in runs)
        each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"mlpilot runs incl. one after Evidently: {each} "
              f"(median {seconds:.2f} s); load average after: {os.getloadavg()[0]:.2f}")
        ratio = peer["seconds"] / seconds
        print(f"| Evidently {peer['version']} DataDriftPreset (report run only; pandas {peer['pandas']}) | "
              f"{peer['seconds']:.2f} s (read {peer['read_seconds']:.2f} s) | {peer['peak_rss_mib']:,.0f} MiB |")
        print(f"Evidently flagged {len(peer['drifted'])} of {len(peer['tests'])}: {', '.join(peer['drifted'])}")
        same_columns = sorted(peer["drifted"]) == sorted(mine["drifted"])
        differing = sorted(c for c, t in peer["tests"].items()
                           if EVIDENTLY_METHODS.get(t[0], t[0]) != mine["tests"].get(c, [None])[0])
        print(f"ratio Evidently / mlpilot: {ratio:.1f} × (target ≥ 20)")
        print(f"same drifted columns: {'yes' if same_columns else 'NO'}; same test per column: "
              f"{'yes' if not differing else 'NO: ' + ', '.join(differing)}")
        figures |= {"evidently": peer, "ratio": ratio, "same_drifted_columns": same_columns,
                    "columns_with_other_test": differing}
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
