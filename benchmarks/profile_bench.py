"""Profiling benchmark: the floor (polars.read_csv), mlpilot ingest + full profile, and ydata-profiling, in one run.

Usage: python benchmarks/profile_bench.py DATA.csv [--repeat N] [--ydata-python PATH] [--skip-ydata]
Every measurement runs in its own process (imports included) and its peak RSS is that process's own
(os.wait4). With --repeat N each tool runs N times, interleaved, and the fastest run counts — the machine is
shared, so the minimum is the least disturbed figure. Make the data with ../shared/bench/data_peers/gen_data.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = "import polars as pl, sys; pl.read_csv(sys.argv[1])"

# What the server does for an uploaded file: stream the file into a new Delta Lake version (never holding the
# whole table), then the profile job reads that version back and profiles every row.
MLPILOT = """
import json, shutil, sys, tempfile, time
from pathlib import Path
t0 = time.perf_counter()
from mlpilot.datasets.profile_files import scan_file
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import lake, profiling
root = Path(tempfile.mkdtemp(prefix="mlpilot-bench-"))
store = ArtifactStore(str(root / "store"), root / "cache")
t1 = time.perf_counter()
written = lake.write_version(store, "datasets/1/bench.delta", scan_file(Path(sys.argv[1])))
t2 = time.perf_counter()
profile = profiling.profile_frame(lake.scan_version(store, "datasets/1/bench.delta", written.delta_version))
t3 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "ingest": t2 - t1, "profile": t3 - t2, "rows": profile["rows"],
                  "mode": profile["mode"], "warnings": len(profile["warnings"]), "stored_bytes": written.size_bytes}))
shutil.rmtree(root)
"""

CLI = "import sys; from mlpilot.cli.main import app; app(['data', 'profile', sys.argv[1], '--out', sys.argv[2]])"

YDATA = ("import pandas as pd, sys; from ydata_profiling import ProfileReport; "
         "df = pd.read_csv(sys.argv[1]); ProfileReport(df, minimal=True, progress_bar=False).to_json()")


def measure(python: str, code: str, *args: str) -> tuple[float, float, str, float]:
    """Run `code` in a fresh process; return (wall seconds, peak RSS MiB, stdout, CPU seconds)."""
    started = time.perf_counter()
    process = subprocess.Popen([python, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark step failed (exit {os.waitstatus_to_exitcode(status)}): {code[:80]!r}")
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--ydata-python", default="/tmp/ydata-venv/bin/python")
    parser.add_argument("--skip-ydata", action="store_true")
    parser.add_argument("--json", help="also write the figures as JSON here")
    args = parser.parse_args()
    csv_mib = Path(args.csv).stat().st_size / 2**20
    best: dict[str, tuple[float, float, str, float]] = {}

    def keep(name: str, result: tuple[float, float, str, float]) -> None:
        if name not in best or result[0] < best[name][0]:
            best[name] = result
        print(f"  {name}: {result[0]:.2f} s (CPU {result[3]:.2f} s), peak RSS {result[1]:.0f} MiB", file=sys.stderr,
              flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            print(f"round {round_ + 1}/{args.repeat}", file=sys.stderr, flush=True)
            keep("floor", measure(sys.executable, FLOOR, args.csv))
            keep("mlpilot", measure(sys.executable, MLPILOT, args.csv))
            keep("cli", measure(sys.executable, CLI, args.csv, str(Path(tmp) / "profile.json")))
        if not args.skip_ydata:
            keep("ydata", measure(args.ydata_python, YDATA, args.csv))  # once: it takes a minute

    floor, mlpilot = best["floor"], best["mlpilot"]
    parts = json.loads(mlpilot[2])
    figures = {
        "csv_mib": round(csv_mib, 1), "rows": parts["rows"], "repeat": args.repeat,
        "floor_s": round(floor[0], 2), "floor_rss_mib": round(floor[1]),
        "mlpilot_s": round(mlpilot[0], 2), "mlpilot_rss_mib": round(mlpilot[1]),
        "mlpilot_parts_s": {k: round(parts[k], 2) for k in ("imports", "ingest", "profile")},
        "mlpilot_profile_mode": parts["mode"],
        "cli_profile_s": round(best["cli"][0], 2), "cli_rss_mib": round(best["cli"][1]),
        "floor_cpu_s": round(floor[3], 2), "mlpilot_cpu_s": round(mlpilot[3], 2),
        "ratio_vs_floor": round(mlpilot[0] / floor[0], 2),
        "cpu_ratio_vs_floor": round(mlpilot[3] / floor[3], 2),
        "rss_vs_csv": round(mlpilot[1] / csv_mib, 2),
    }
    if "ydata" in best:
        figures |= {"ydata_s": round(best["ydata"][0], 1), "ydata_rss_mib": round(best["ydata"][1]),
                    "ydata_cpu_s": round(best["ydata"][3], 1),
                    "ydata_vs_mlpilot": round(best["ydata"][0] / mlpilot[0], 1),
                    "ydata_vs_mlpilot_cpu": round(best["ydata"][3] / mlpilot[3], 1)}
    print("| step | wall s | CPU s | peak RSS |")
    print("|---|---|---|---|")
    print(f"| polars read_csv (floor) | {floor[0]:.2f} | {floor[3]:.2f} | {floor[1]:.0f} MiB |")
    print(f"| mlpilot ingest (CSV → Delta version, streamed) + full profile of that version | {mlpilot[0]:.2f} "
          f"(imports {parts['imports']:.2f}, ingest {parts['ingest']:.2f}, profile {parts['profile']:.2f}) "
          f"| {mlpilot[3]:.2f} | {mlpilot[1]:.0f} MiB |")
    print(f"| `mlpilot data profile` CLI (no ingest) | {best['cli'][0]:.2f} | {best['cli'][3]:.2f} "
          f"| {best['cli'][1]:.0f} MiB |")
    if "ydata" in best:
        print(f"| ydata-profiling minimal | {best['ydata'][0]:.1f} | {best['ydata'][3]:.1f} "
              f"| {best['ydata'][1]:.0f} MiB |")
    print()
    print(f"ingest+profile / floor = {figures['ratio_vs_floor']} wall, {figures['cpu_ratio_vs_floor']} CPU "
          "(target <= 3)")
    if "ydata" in best:
        print(f"ydata / mlpilot = {figures['ydata_vs_mlpilot']} wall, {figures['ydata_vs_mlpilot_cpu']} CPU "
              "(target >= 20)")
    print(f"peak RSS / CSV size = {figures['rss_vs_csv']} (target <= 3; CSV {csv_mib:.0f} MiB)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
