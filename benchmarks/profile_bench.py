"""Profiling benchmark: the floor (polars.read_csv), mlpilot ingest + full profile, and ydata-profiling, in one run.

Usage: python benchmarks/profile_bench.py DATA.csv [--repeat N] [--ydata-python PATH] [--skip-ydata]
Every measurement runs in its own process (imports included) and its peak RSS is that process's own
(os.wait4). With --repeat N each tool runs N times, interleaved; the table gives each tool's median run (by wall
time) and the fastest run — the machine is shared, so the minimum is the least disturbed figure. Ratios are
given for both. Make the data with ../shared/bench/data_peers/gen_data.py.
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

# A file on disk into a new Delta Lake version, streamed (never holding the whole table) — the offline path,
# like a large file read by the file connector — then the profile job's work: read that version back, profile
# every row.
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

# What the server does with an uploaded file (POST /api/projects/{id}/datasets): the bytes are checked (UTF-8,
# every row's field count, names) and parsed in memory, written as a new Delta version, and the profile job profiles
# that version.
UPLOAD = """
import json, shutil, sys, tempfile, time
from pathlib import Path
t0 = time.perf_counter()
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import ingest, lake, profiling
root = Path(tempfile.mkdtemp(prefix="mlpilot-bench-"))
store = ArtifactStore(str(root / "store"), root / "cache")
t1 = time.perf_counter()
path = Path(sys.argv[1])
parsed = ingest.parse_upload(path.name, path.read_bytes())
written = lake.write_version(store, "datasets/1/bench.delta", parsed.frame)
del parsed
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
    runs: dict[str, list[tuple[float, float, str, float]]] = {}

    def keep(name: str, result: tuple[float, float, str, float]) -> None:
        runs.setdefault(name, []).append(result)
        print(f"  {name}: {result[0]:.2f} s (CPU {result[3]:.2f} s), peak RSS {result[1]:.0f} MiB", file=sys.stderr,
              flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            print(f"round {round_ + 1}/{args.repeat}", file=sys.stderr, flush=True)
            keep("floor", measure(sys.executable, FLOOR, args.csv))
            keep("mlpilot", measure(sys.executable, MLPILOT, args.csv))
            keep("upload", measure(sys.executable, UPLOAD, args.csv))
            keep("cli", measure(sys.executable, CLI, args.csv, str(Path(tmp) / "profile.json")))
        if not args.skip_ydata:
            keep("ydata", measure(args.ydata_python, YDATA, args.csv))  # once: it takes a minute

    best = {name: min(results, key=lambda r: r[0]) for name, results in runs.items()}
    # The median run by wall time (the lower middle one for an even count), reported with its own CPU and RSS.
    median = {name: sorted(results, key=lambda r: r[0])[(len(results) - 1) // 2] for name, results in runs.items()}
    figures: dict[str, object] = {"csv_mib": round(csv_mib, 1), "repeat": args.repeat,
                                  "runs": {name: [{"s": round(r[0], 2), "cpu_s": round(r[3], 2), "rss_mib": round(r[1])}
                                                  for r in results] for name, results in runs.items()}}
    for label, chosen in (("median", median), ("best", best)):
        floor, mlpilot = chosen["floor"], chosen["mlpilot"]
        parts = json.loads(mlpilot[2])
        upload_parts = json.loads(chosen["upload"][2])
        figures[label] = {
            "rows": parts["rows"], "floor_s": round(floor[0], 2), "floor_rss_mib": round(floor[1]),
            "mlpilot_s": round(mlpilot[0], 2), "mlpilot_rss_mib": round(mlpilot[1]),
            "mlpilot_parts_s": {k: round(parts[k], 2) for k in ("imports", "ingest", "profile")},
            "mlpilot_profile_mode": parts["mode"],
            "upload_s": round(chosen["upload"][0], 2), "upload_cpu_s": round(chosen["upload"][3], 2),
            "upload_rss_mib": round(chosen["upload"][1]),
            "upload_parts_s": {k: round(upload_parts[k], 2) for k in ("imports", "ingest", "profile")},
            "upload_ratio_vs_floor": round(chosen["upload"][0] / floor[0], 2),
            "upload_rss_vs_csv": round(chosen["upload"][1] / csv_mib, 2),
            "cli_profile_s": round(chosen["cli"][0], 2), "cli_rss_mib": round(chosen["cli"][1]),
            "floor_cpu_s": round(floor[3], 2), "mlpilot_cpu_s": round(mlpilot[3], 2),
            "ratio_vs_floor": round(mlpilot[0] / floor[0], 2),
            "cpu_ratio_vs_floor": round(mlpilot[3] / floor[3], 2),
            "rss_vs_csv": round(mlpilot[1] / csv_mib, 2),
            "max_rss_vs_csv": round(max(r[1] for r in runs["mlpilot"]) / csv_mib, 2),
        }
        if "ydata" in chosen:
            ydata = chosen["ydata"]
            figures[label] |= {"ydata_s": round(ydata[0], 1), "ydata_rss_mib": round(ydata[1]),
                               "ydata_cpu_s": round(ydata[3], 1), "ydata_vs_mlpilot": round(ydata[0] / mlpilot[0], 1),
                               "ydata_vs_mlpilot_cpu": round(ydata[3] / mlpilot[3], 1)}
        f = figures[label]
        print(f"{label} of {args.repeat} run(s):")
        print("| step | wall s | CPU s | peak RSS |")
        print("|---|---|---|---|")
        print(f"| polars read_csv (floor) | {floor[0]:.2f} | {floor[3]:.2f} | {floor[1]:.0f} MiB |")
        print(f"| mlpilot ingest (CSV → Delta version, streamed) + {parts['mode']} profile of that version | "
              f"{mlpilot[0]:.2f} (imports {parts['imports']:.2f}, ingest {parts['ingest']:.2f}, profile "
              f"{parts['profile']:.2f}) | {mlpilot[3]:.2f} | {mlpilot[1]:.0f} MiB |")
        upload = chosen["upload"]
        print(f"| mlpilot upload path (checked + parsed in memory → Delta version) + {upload_parts['mode']} profile | "
              f"{upload[0]:.2f} (imports {upload_parts['imports']:.2f}, ingest {upload_parts['ingest']:.2f}, profile "
              f"{upload_parts['profile']:.2f}) | {upload[3]:.2f} | {upload[1]:.0f} MiB |")
        print(f"| `mlpilot data profile` CLI (no ingest) | {chosen['cli'][0]:.2f} | {chosen['cli'][3]:.2f} "
              f"| {chosen['cli'][1]:.0f} MiB |")
        if "ydata" in chosen:
            print(f"| ydata-profiling minimal | {chosen['ydata'][0]:.1f} | {chosen['ydata'][3]:.1f} "
                  f"| {chosen['ydata'][1]:.0f} MiB |")
        print()
        print(f"ingest+profile / floor = {f['ratio_vs_floor']} wall, {f['cpu_ratio_vs_floor']} CPU (target <= 3); "
              f"upload path {f['upload_ratio_vs_floor']} wall, RSS / CSV {f['upload_rss_vs_csv']}")
        if "ydata" in chosen:
            print(f"ydata / mlpilot = {f['ydata_vs_mlpilot']} wall, {f['ydata_vs_mlpilot_cpu']} CPU (target >= 20)")
        print(f"peak RSS / CSV size = {f['rss_vs_csv']} (highest of all runs {f['max_rss_vs_csv']}; target <= 3; "
              f"CSV {csv_mib:.0f} MiB)")
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
