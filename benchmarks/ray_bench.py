"""Batch scoring on a local Ray cluster vs the local executor: per-core throughput, measured in one run.

Usage: PYTHONPATH=src python benchmarks/ray_bench.py [--rows N] [--jobs J] [--chunk-rows C] [--json OUT]

One generated table (Parquet, the churn model's four columns) is scored by J scoring runs at once, each a job
submitted through the normal service, twice: on the local executor with J worker threads, then on a Ray cluster of
J worker nodes with one CPU each (ray.cluster_utils.Cluster, started here; its start is not timed). Both use the
same SQLite database and local folder store. Throughput is rows scored per second of wall time from the first
submit to the last job's end, divided by J cores; the ratio is Ray's per-core figure over the local executor's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402


def make_table(path: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    pl.DataFrame({"tenure": rng.integers(0, 72, rows).astype(float), "charges": rng.uniform(18, 120, rows),
                  "plan": rng.choice(["basic", "premium", "family"], rows),
                  "paperless": rng.integers(0, 2, rows).astype(bool)}).write_parquet(path)


def run_jobs(runtime: Any, world: dict[str, Any], label: str) -> float:
    """Score the table with `jobs` runs at once; return the wall seconds until the last ends."""
    from mlpilot.core import jobs
    from mlpilot.core.db import session_scope
    from mlpilot.scoring import service as scoring
    from mlpilot.scoring.specs import parse_output, parse_source

    job_ids = []
    start = time.perf_counter()
    for i in range(world["jobs"]):
        out = world["tmp"] / f"{label}-{i}.parquet"
        with session_scope(runtime.sessions) as session:
            run = scoring.create_run(session, guard=runtime.allowlist,
                                     source=parse_source({"kind": "file", "path": str(world["table"])}),
                                     output=parse_output({"kind": "file", "path": str(out)}),
                                     model_path=str(world["model"]), chunk_rows=world["chunk_rows"],
                                     project_id=world["project_id"])
            job_ids.append(scoring.submit_run(session, runtime=runtime, run_id=run.id).job_id)
    for job_id in job_ids:
        job = jobs.wait_for_job(runtime, job_id, timeout=3600, poll=0.05)
        if job.state != "succeeded":
            raise SystemExit(f"{label} job {job_id} {job.state}: {job.error}")
    seconds = time.perf_counter() - start
    for i in range(world["jobs"]):
        assert pl.scan_parquet(world["tmp"] / f"{label}-{i}.parquet").select(pl.len()).collect().item() == \
            world["rows"]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of the table each job scores")
    parser.add_argument("--jobs", type=int, default=2, help="jobs at once = local threads = Ray worker nodes")
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])

    import ray
    from ray.cluster_utils import Cluster
    from tests.dataplane.factories import make_churn_model
    from tests.projects.factories import make_project, make_user

    from mlpilot.app import prepare_runtime
    from mlpilot.core.db import session_scope
    from mlpilot.core.runtime import Runtime
    from mlpilot.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    world: dict[str, Any] = {"tmp": tmp, "rows": args.rows, "jobs": args.jobs, "chunk_rows": args.chunk_rows,
                             "table": tmp / "table.parquet", "model": make_churn_model(tmp / "model")}
    make_table(world["table"], args.rows)
    base = {"data_dir": tmp / "data", "sources": {"roots": [str(tmp)]}, "admin_password": "bench-password-123"}

    local = Runtime.from_settings(Settings(**base, jobs={"workers": args.jobs}))
    prepare_runtime(local)
    with session_scope(local.sessions) as session:
        world["project_id"] = make_project(session, user=make_user(session)).id
    local.start_executor()
    run_jobs(local, world, "warm-local")  # imports and the model cache, as on a running server
    local_s = run_jobs(local, world, "local")
    local.close()

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(args.jobs):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        remote = Runtime.from_settings(Settings(**base, jobs={"executor": "ray", "ray_address": cluster.address}))
        remote.start_executor()
        run_jobs(remote, world, "warm-ray")  # each worker imports mlpilot and opens its engine once
        ray_s = run_jobs(remote, world, "ray")
        remote.close()
    finally:
        ray.shutdown()
        cluster.shutdown()

    total = args.rows * args.jobs
    local_rate, ray_rate = total / local_s / args.jobs, total / ray_s / args.jobs
    figures = {"rows_per_job": args.rows, "jobs": args.jobs, "chunk_rows": args.chunk_rows,
               "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
               "local_seconds": round(local_s, 2), "ray_seconds": round(ray_s, 2),
               "local_rows_per_s_per_core": round(local_rate), "ray_rows_per_s_per_core": round(ray_rate),
               "ratio_ray_over_local": round(ray_rate / local_rate, 3)}
    print(f"local executor: {local_s:8.2f} s  {local_rate:12,.0f} rows/s per core  ({args.jobs} jobs × "
          f"{args.rows:,} rows, {args.jobs} threads)")
    print(f"ray executor:   {ray_s:8.2f} s  {ray_rate:12,.0f} rows/s per core  ({args.jobs} worker nodes × 1 CPU)")
    print(f"per-core throughput ratio ray / local: {ray_rate / local_rate:.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
