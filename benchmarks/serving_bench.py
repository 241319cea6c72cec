"""Serving benchmark: `mlpilot serve` against the serving peers, on the same model, in one run.

Usage: python benchmarks/serving_bench.py [--peers-env /tmp/serving-env] [--mlserver-env /tmp/serving-env-mls]
       [--artifacts /tmp/serving-artifacts] [--stacks naive-fastapi-booster,mlserver-inproc]
       [--rounds 2] [--duration 10] [--warmup 3] [--flavor lightgbm|sklearn] [--http fast|uvicorn] [--also-uvicorn]
       [--work /tmp/serving-bench] [--json OUT] [--md OUT]

1. Trains the peers' model when the artifacts are missing (../shared/bench/serving_peers/train.py).
2. Starts `mlpilot serve --import model.txt --flavor lightgbm` (or model.joblib with --flavor sklearn)
   standalone on a free port (OMP_NUM_THREADS=1 like every peer), times it to the first answer, takes
   its idle memory 3 s later, and loads it with ../shared/bench/serve_bench.py in the peers' three
   configurations (OIP V2 bodies from the artifacts: 1 row at concurrency 1 and 16, 100 rows at 4).
3. Runs the peers with run_peers.py (--rounds 1, into --work; the first round also measures the in-process
   floor). Steps 2 and 3 repeat --rounds times, round-robin, so other load on the shared machine spreads
   over every stack; medians over the rounds are reported.
4. Prints one table with each target's figure, the best peer's and the ratio, plus server CPU ms per
   request (the figure least moved by other load) and the 1-minute load average of every run.
No token is configured: `mlpilot serve` without one answers without authentication on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("MLPILOT_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
PEERS = BENCH / "serving_peers"
CONFIGS = [(1, 1), (1, 16), (100, 4)]  # (rows per request, concurrency), as run_peers.py
MLPILOT = Path(sys.executable).with_name("mlpilot")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loadavg() -> float:
    return os.getloadavg()[0]


def ensure_artifacts(a: argparse.Namespace) -> None:
    if (a.artifacts / "model.txt").is_file() and (a.artifacts / "body_oip_100.json").is_file():
        return
    print(f"training the peers' model into {a.artifacts} ...", flush=True)
    subprocess.run([str(a.peers_env / "bin" / "python"), str(PEERS / "train.py"), "--out", str(a.artifacts)],
                   check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))


def memory_mib(pid: int) -> tuple[float, float]:
    sys.path.insert(0, str(BENCH))
    import serve_bench  # the peers' own process-tree helpers: the same RSS / PSS accounting

    return serve_bench.memory_mib([pid])


def measure_mlpilot(a: argparse.Namespace, label: str, http: str, round_no: int, out: Path) -> dict[str, Any]:
    model = a.artifacts / ("model.txt" if a.flavor == "lightgbm" else "model.joblib")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPILOT_")}
    env["OMP_NUM_THREADS"] = "1"
    log = open(a.work / f"{label}.log", "ab")
    cmd = [str(MLPILOT), "serve", "--import", str(model), "--flavor", a.flavor, "--name", "adult",
           "--port", str(port), "--http", http]
    url = f"http://127.0.0.1:{port}/v2/models/adult/infer"
    body = (a.artifacts / "body_oip_1.json").read_bytes()
    started = time.monotonic()
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    record: dict[str, Any] = {"kind": "start", "stack": label, "round": round_no}
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"mlpilot serve exited with {process.returncode}; see {log.name}")
            if time.monotonic() - started > 120:
                raise RuntimeError("mlpilot serve gave no answer in 120 s")
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    response.read()
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        record["startup_s"] = round(time.monotonic() - started, 3)
        time.sleep(3)
        rss, pss = memory_mib(process.pid)
        record.update(idle_rss_mib=rss, idle_pss_mib=pss, loadavg_1m=loadavg())
        with out.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        for rows, concurrency in CONFIGS:
            before = loadavg()
            subprocess.run([sys.executable, str(BENCH / "serve_bench.py"), "--url", url, "--protocol", "oip",
                            "--body-file", str(a.artifacts / f"body_oip_{rows}.json"), "-c", str(concurrency),
                            "--duration", str(a.duration), "--warmup", str(a.warmup), "--repeat", "1",
                            "--pid", str(process.pid), "--label", label, "--tag", f"round={round_no}",
                            "--out", str(out), "--no-header", "-q"], check=True)
            lines = out.read_text().splitlines()
            last = json.loads(lines[-1])
            last["loadavg_1m"] = [round(before, 2), round(loadavg(), 2)]
            out.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    return record


def run_peers(a: argparse.Namespace, round_no: int) -> list[dict[str, Any]]:
    out = a.work / f"peers-{round_no}.jsonl"
    out.unlink(missing_ok=True)
    cmd = [str(a.peers_env / "bin" / "python"), str(PEERS / "run_peers.py"), "--env", str(a.peers_env),
           "--artifacts", str(a.artifacts), "--stacks", a.stacks, "--rounds", "1", "--duration", str(a.duration),
           "--warmup", str(a.warmup), "--out", str(out), "--md", str(a.work / "peers.md"),
           "--logs", str(a.work)]
    if a.mlserver_env:
        cmd += ["--mlserver-env", str(a.mlserver_env)]
    if round_no > 1:
        cmd.append("--no-floor")
    subprocess.run(cmd, check=True)
    records = read(out)
    for record in records:
        if "round" in record:
            record["round"] = round_no
    return records


def read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summarize(mine: list[dict[str, Any]], peers: list[dict[str, Any]], label: str) -> tuple[str, dict[str, Any]]:
    loads = [r for r in peers if r.get("kind") == "load"]
    starts = [r for r in peers if r.get("kind") == "start"]
    my_loads = [r for r in mine if r.get("kind") == "load" and r.get("label") == label]
    my_starts = [r for r in mine if r.get("kind") == "start" and r.get("stack") == label]

    def mine_at(batch: int, conc: int, key: str) -> float | None:
        values = [r[key] for r in my_loads
                  if r["batch"] == batch and r["concurrency"] == conc and r.get(key) is not None]
        return statistics.median(values) if values else None

    def peer_best(batch: int, conc: int, key: str, best: Any) -> tuple[float | None, str]:
        """The best stack by its median over the rounds."""
        medians = {}
        for stack in {r["stack"] for r in loads}:
            values = [r[key] for r in loads if r["stack"] == stack and r["batch"] == batch
                      and r["concurrency"] == conc and r.get(key) is not None]
            if values:
                medians[stack] = statistics.median(values)
        if not medians:
            return None, "-"
        stack = best(medians, key=medians.get)
        return medians[stack], stack

    lines = [f"| target | {label} | best peer | peer | ratio | target | met |", "|---|---|---|---|---|---|---|"]
    result: dict[str, Any] = {}

    def row(name: str, value: float | None, peer: tuple[float | None, str], *, higher: bool, factor: float,
            unit: str) -> None:
        peer_value, peer_name = peer
        if value is None or peer_value is None or peer_value == 0:
            lines.append(f"| {name} | {value} | {peer_value} | {peer_name} | - | - | - |")
            return
        ratio = value / peer_value if higher else peer_value / value
        met = ratio >= factor
        goal = f"≥ {factor:g} × peer" if higher else ("≤ peer" if factor == 1 else f"≤ peer / {factor:g}")
        lines.append(f"| {name} | {value:,.2f} {unit} | {peer_value:,.2f} {unit} | {peer_name} | {ratio:.2f} × | "
                     f"{goal} | {'yes' if met else 'NO'} |")
        result[name] = {"mlpilot": value, "peer": peer_value, "peer_stack": peer_name, "ratio": ratio, "met": met}

    row("1 row, c16, req/s", mine_at(1, 16, "rps"), peer_best(1, 16, "rps", max), higher=True, factor=2.0,
        unit="")
    row("1 row, c1, p99 ms", mine_at(1, 1, "p99_ms"), peer_best(1, 1, "p99_ms", min), higher=False, factor=1.0,
        unit="ms")
    row("100 rows, c4, req/s", mine_at(100, 4, "rps"), peer_best(100, 4, "rps", max), higher=True, factor=1.5,
        unit="")
    idle = statistics.median([r["idle_rss_mib"] for r in my_starts]) if my_starts else None
    idle_by_stack = {stack: statistics.median([r["idle_rss_mib"] for r in starts if r["stack"] == stack])
                     for stack in {r["stack"] for r in starts}}
    lowest = min(idle_by_stack, key=idle_by_stack.get) if idle_by_stack else None
    row("idle RSS MiB", idle, (idle_by_stack[lowest], lowest) if lowest else (None, "-"),
        higher=False, factor=1.0, unit="MiB")
    lines += ["", "Server CPU ms per answered request (least moved by other load; lower is better):", "",
              f"| config | {label} | " + " | ".join(sorted({r['stack'] for r in loads})) + " |",
              "|---|---|" + "---|" * len({r['stack'] for r in loads})]
    for batch, conc in CONFIGS:
        cells = [f"{mine_at(batch, conc, 'srv_cpu_ms_per_req') or 0:.3f}"]
        for stack in sorted({r["stack"] for r in loads}):
            values = [r["srv_cpu_ms_per_req"] for r in loads if r["stack"] == stack and r["batch"] == batch
                      and r["concurrency"] == conc]
            cells.append(f"{statistics.median(values):.3f}" if values else "-")
        lines.append(f"| {batch} row(s), c{conc} | " + " | ".join(cells) + " |")
    return "\n".join(lines), result


def runs_table(records: list[dict[str, Any]]) -> str:
    lines = ["| stack | round | rows/req | conc | req/s | p50 ms | p99 ms | errors | server CPU ms/req | load 1m |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        if r.get("kind") != "load":
            continue
        stack = r.get("stack") or r.get("label")
        rnd = r.get("round", (r.get("tags") or {}).get("round", ""))
        lines.append(f"| {stack} | {rnd} | {r['batch']} | {r['concurrency']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['errors']} | {r['srv_cpu_ms_per_req']:.3f} | {r.get('loadavg_1m', '')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers-env", type=Path, default=Path("/tmp/serving-env"))
    parser.add_argument("--mlserver-env", type=Path, default=Path("/tmp/serving-env-mls"))
    parser.add_argument("--artifacts", type=Path, default=Path("/tmp/serving-artifacts"))
    parser.add_argument("--stacks", default="naive-fastapi-booster,mlserver-inproc")
    parser.add_argument("--rounds", type=int, default=2, help="round-robin rounds (medians are reported)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--flavor", choices=("lightgbm", "sklearn"), default="lightgbm")
    parser.add_argument("--http", choices=("fast", "uvicorn"), default="fast")
    parser.add_argument("--also-uvicorn", action="store_true", help="also measure `mlpilot serve --http uvicorn`")
    parser.add_argument("--no-peers", action="store_true", help="measure mlpilot only (no ratios)")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--json", type=Path, help="write the summary as JSON")
    parser.add_argument("--md", type=Path, help="write the tables as Markdown")
    a = parser.parse_args()
    a.work = a.work or Path(tempfile.mkdtemp(prefix="serving-bench-"))
    a.work.mkdir(parents=True, exist_ok=True)
    if not a.mlserver_env or not (a.mlserver_env / "bin" / "mlserver").exists():
        a.mlserver_env = None
        a.stacks = ",".join(s for s in a.stacks.split(",") if not s.startswith("mlserver"))
    ensure_artifacts(a)
    label = f"mlpilot-{a.flavor}" + ("" if a.http == "fast" else "-uvicorn")
    mine_path = a.work / "mlpilot.jsonl"
    mine_path.unlink(missing_ok=True)
    load_before = loadavg()
    print(f"work folder {a.work}; load average {load_before:.2f}", flush=True)
    peers: list[dict[str, Any]] = []
    # Round-robin (mlpilot, then each peer, per round) so that load from other work spreads over all stacks.
    for round_no in range(1, a.rounds + 1):
        measure_mlpilot(a, label, a.http, round_no, mine_path)
        if a.also_uvicorn and a.http == "fast":
            measure_mlpilot(a, f"mlpilot-{a.flavor}-uvicorn", "uvicorn", round_no, mine_path)
        if not a.no_peers:
            peers += run_peers(a, round_no)
    mine = read(mine_path)
    for r in mine:  # serve_bench.py's own lines carry no kind/stack
        r.setdefault("kind", "load")
        r.setdefault("stack", r.get("label"))
        r.setdefault("round", (r.get("tags") or {}).get("round", ""))
    summary, result = summarize(mine, peers, label)
    floors = [r for r in peers if r.get("kind") == "floor"]
    my_runs = len({r["round"] for r in mine if r["kind"] == "load"})
    text = [f"# mlpilot serve vs serving peers ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
            f"Load average (1 min) {load_before:.2f} at start, {loadavg():.2f} at the end; 2 cores shared with other "
            f"work. Every figure is the median over {my_runs} round(s), each round measuring mlpilot and then each "
            "peer.", "", summary, "",
            "All runs:", "", runs_table(mine + peers)]
    if floors:
        text += ["", "In-process floor (floor.py):", "", "| call | rows | µs/call (best) |", "|---|---|---|"]
        text += [f"| {r['label']} | {r['batch']} | {r['us_per_call_best']:.1f} |" for r in floors]
    output = "\n".join(text)
    print(output)
    if a.md:
        a.md.write_text(output + "\n")
    if a.json:
        a.json.write_text(json.dumps({"targets": result, "mlpilot": mine, "peers": peers,
                                      "loadavg": [load_before, loadavg()]}, indent=1))


if __name__ == "__main__":
    main()
