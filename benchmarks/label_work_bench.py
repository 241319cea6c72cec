"""Labeling work benchmark (issue 15): a 1,000,000-item project on PostgreSQL, 50 annotators at once.

Usage:
  python benchmarks/label_work_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/labelbench \
      [--items 1000000] [--annotators 50] [--seconds 30] [--think-ms 0] [--overlap-share 0.1] [--overlap-count 3]
      [--http] [--profile OUT.prof]

Steps, all through mlpilot's own services on the given (fresh or reused) database:
1. a dataset version of `--items` text rows, then `labeling.service.create_labeling` over it (timed: the
   task rows are written with COPY);
2. `--annotators` users with the annotator role, each a thread running next item → submit in a loop for
   `--seconds`, waiting `--think-ms` (uniform 0..2×) before the first call and between calls (0 = closed loop
   with all annotators starting at once, the saturation case);
   latencies are measured around the service call (`--http`: around the HTTP call to a real uvicorn server
   started in a subprocess on the same database, with each annotator's own API token);
3. checks that no task was served beyond its overlap and no (task, user) pair twice, and prints p50/p95/p99.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import func, select, text  # noqa: E402

from mlpilot.accounts.models import Role, User  # noqa: E402
from mlpilot.core.runtime import Runtime  # noqa: E402
from mlpilot.datasets import service as datasets_service  # noqa: E402
from mlpilot.labeling import service, work  # noqa: E402
from mlpilot.labeling.models import LabelingAssignment, LabelingMember, LabelingTask, MemberRole  # noqa: E402
from mlpilot.labeling.schemas import LabelIn, LabelingCreate, SubmitIn  # noqa: E402
from mlpilot.migrations import upgrade_database  # noqa: E402
from mlpilot.projects import service as projects_service  # noqa: E402
from mlpilot.projects.models import ProjectMember  # noqa: E402
from mlpilot.settings import Settings  # noqa: E402

WORDS = ["배송이", "빨라서", "좋아요", "battery", "died", "great", "value", "포장이", "엉망", "works", "kind", "색상"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def build(runtime: Runtime, items: int, annotators: int, share: float, count: int) -> tuple[int, list[int], float]:
    tag = uuid.uuid4().hex[:6]
    with runtime.sessions() as session:
        admin = User(username=f"bench-{tag}", password_hash="x", role=Role.admin)
        session.add(admin)
        session.commit()
        project = projects_service.create_project(session, name=f"label bench {tag}", user=admin)
        rng = random.Random(0)
        frame = pl.DataFrame({"review": [" ".join(rng.choices(WORDS, k=8)) + f" #{i}" for i in range(items)],
                              "stars": [i % 5 + 1 for i in range(items)]})
        started = time.perf_counter()
        version, _ = datasets_service.create_dataset_version_from_frame(
            session, runtime=runtime, project_id=project.id, name="reviews", frame=frame,
            lineage={"source": "upload:bench.parquet"},
            user_id=admin.id)
        print(f"dataset version of {items:,} rows written in {time.perf_counter() - started:.1f} s")
        body = LabelingCreate(name="sentiment", dataset_version_id=version.id, kind="classification",
                              labels=["positive", "negative", "neutral"], text_column="review", fields=["stars"],
                              overlap_share=share, overlap_count=count)
        started = time.perf_counter()
        labeling = service.create_labeling(session, store=runtime.store, project_id=project.id, user=admin, body=body)
        created = time.perf_counter() - started
        print(f"labeling project of {labeling.task_count:,} tasks created in {created:.1f} s")
        users = [User(username=f"ann-{tag}-{i}", password_hash="x", role=Role.member) for i in range(annotators)]
        session.add_all(users)
        session.flush()
        for user in users:
            session.add(ProjectMember(project_id=project.id, user_id=user.id))
            session.add(LabelingMember(labeling_id=labeling.id, user_id=user.id, role=MemberRole.annotator))
        session.commit()
        session.execute(text("ANALYZE labeling_tasks"))
        session.execute(text("ANALYZE labeling_assignments"))
        session.commit()
        return labeling.id, [u.id for u in users], created


def run_service(runtime: Runtime, labeling_id: int, user_ids: list[int], seconds: float,
                think_ms: float) -> tuple[list[float], list[float], list[str]]:
    nexts: list[float] = []
    submits: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(len(user_ids))
    stop = time.perf_counter() + seconds + 1
    label = SubmitIn(value=LabelIn(label="positive"), seconds_spent=3.0)

    def annotator(user_id: int) -> None:
        rng = random.Random(user_id)
        with runtime.sessions() as session:
            user = session.get(User, user_id)
            assert user is not None
            session.expunge(user)
            barrier.wait()
            if think_ms:  # annotators start at different moments, not in one burst of 50 at the same instant
                time.sleep(rng.uniform(0, 2 * think_ms) / 1000)
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    item = work.next_item(session, labeling_id=labeling_id, user=user)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    errors.append(f"next {type(exc).__name__}: {exc}")
                    continue
                nexts.append(time.perf_counter() - t0)
                if item is None:
                    return
                if think_ms:
                    time.sleep(rng.uniform(0, 2 * think_ms) / 1000)
                t0 = time.perf_counter()
                try:
                    work.submit(session, assignment_id=item.assignment_id, user=user, body=label)
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"submit {type(exc).__name__}: {exc}")
                    continue
                submits.append(time.perf_counter() - t0)
                if think_ms:
                    time.sleep(rng.uniform(0, 2 * think_ms) / 1000)

    threads = [threading.Thread(target=annotator, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return nexts, submits, errors


def run_http(settings: Settings, runtime: Runtime, labeling_id: int, user_ids: list[int], seconds: float,
             think_ms: float, port: int) -> tuple[list[float], list[float], list[str]]:
    import httpx

    from mlpilot.accounts import service as accounts_service

    with runtime.sessions() as session:
        headers = []
        for uid in user_ids:
            _, secret = accounts_service.create_token(session, user_id=uid, name="bench")
            headers.append({"Authorization": f"Bearer {secret}"})
    env = {**__import__("os").environ, "MLPILOT_DATABASE_URL": settings.database_url_resolved,
           "MLPILOT_DATA_DIR": str(settings.data_dir), "MLPILOT_DB__POOL_SIZE": str(len(user_ids) + 5),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "mlpilot.app:create_app", "--port",
                               str(port), "--log-level", "warning"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        nexts: list[float] = []
        submits: list[float] = []
        errors: list[str] = []
        barrier = threading.Barrier(len(user_ids))
        stop = time.perf_counter() + seconds + 1

        def annotator(i: int) -> None:
            rng = random.Random(i)
            with httpx.Client(base_url=base, headers=headers[i], timeout=60) as http:
                barrier.wait()
                if think_ms:
                    time.sleep(rng.uniform(0, 2 * think_ms) / 1000)
                while time.perf_counter() < stop:
                    t0 = time.perf_counter()
                    got = http.post(f"/api/v1/labeling/{labeling_id}/next")
                    nexts.append(time.perf_counter() - t0)
                    if got.status_code == 204:
                        return
                    if got.status_code != 200:
                        errors.append(f"next {got.status_code} {got.text[:200]}")
                        continue
                    if think_ms:
                        time.sleep(rng.uniform(0, 2 * think_ms) / 1000)
                    t0 = time.perf_counter()
                    done = http.post(f"/api/v1/labeling-assignments/{got.json()['assignment_id']}/submit",
                                     json={"value": {"label": "positive"}, "seconds_spent": 3.0})
                    submits.append(time.perf_counter() - t0)
                    if done.status_code != 200:
                        errors.append(f"submit {done.status_code} {done.text[:200]}")
                    if think_ms:
                        time.sleep(rng.uniform(0, 2 * think_ms) / 1000)

        threads = [threading.Thread(target=annotator, args=(i,)) for i in range(len(user_ids))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return nexts, submits, errors
    finally:
        server.terminate()
        server.wait(30)


def check(runtime: Runtime, labeling_id: int) -> str:
    with runtime.sessions() as session:
        over = session.scalar(select(func.count()).select_from(
            select(LabelingAssignment.task_id).join(LabelingTask, LabelingTask.id == LabelingAssignment.task_id)
            .where(LabelingAssignment.labeling_id == labeling_id, LabelingAssignment.status != "skipped")
            .group_by(LabelingAssignment.task_id, LabelingTask.target_count)
            .having(func.count() > LabelingTask.target_count).subquery()))
        twice = session.scalar(select(func.count()).select_from(
            select(LabelingAssignment.task_id).where(LabelingAssignment.labeling_id == labeling_id)
            .group_by(LabelingAssignment.task_id, LabelingAssignment.user_id).having(func.count() > 1).subquery()))
        served = session.scalar(select(func.count()).where(LabelingAssignment.labeling_id == labeling_id))
    assert over == 0 and twice == 0, (over, twice)
    return f"{served:,} assignments; tasks beyond their overlap: {over}; (task, user) pairs served twice: {twice}"


def report(name: str, nexts: list[float], submits: list[float], errors: list[str], seconds: float) -> None:
    for what, values in (("next", nexts), ("submit", submits)):
        print(f"{name} {what:6}: n={len(values):,} ({len(values) / seconds:,.0f}/s) p50 {pct(values, 0.5):.1f} ms  "
              f"p95 {pct(values, 0.95):.1f} ms  p99 {pct(values, 0.99):.1f} ms  max {pct(values, 1.0):.1f} ms  "
              f"mean {statistics.fmean(values) * 1000 if values else float('nan'):.1f} ms")
    if errors:
        print(f"{name} errors: {len(errors)}, first: {errors[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think-ms", type=float, default=0)
    parser.add_argument("--overlap-share", type=float, default=0.1)
    parser.add_argument("--overlap-count", type=int, default=3)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--labeling-id", type=int, help="reuse a labeling project built by an earlier run")
    parser.add_argument("--profile")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="labelbench-"))
    settings = Settings(data_dir=data, database_url=args.database_url,  # type: ignore[call-arg]
                        db={"pool_size": args.annotators + 5})
    runtime = Runtime.from_settings(settings)
    upgrade_database(runtime.engine)
    if args.labeling_id:
        labeling_id = args.labeling_id
        with runtime.sessions() as session:
            user_ids = list(session.scalars(select(LabelingMember.user_id).where(
                LabelingMember.labeling_id == labeling_id).order_by(LabelingMember.id).limit(args.annotators)))
        print(f"reusing labeling project {labeling_id}")
    else:
        labeling_id, user_ids, _ = build(runtime, args.items, args.annotators, args.overlap_share,
                                         args.overlap_count)
    print(f"labeling project {labeling_id}; {len(user_ids)} annotators, {args.seconds:.0f} s, think "
          f"{args.think_ms:.0f} ms")
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    nexts, submits, errors = run_service(runtime, labeling_id, user_ids, args.seconds, args.think_ms)
    if args.profile:
        profiler.disable()
        profiler.dump_stats(args.profile)
    report("service", nexts, submits, errors, args.seconds)
    print(check(runtime, labeling_id))
    if args.http:
        nexts, submits, errors = run_http(settings, runtime, labeling_id, user_ids, args.seconds, args.think_ms,
                                          args.port)
        report("http   ", nexts, submits, errors, args.seconds)
        print(check(runtime, labeling_id))


if __name__ == "__main__":
    main()
