"""Batch scoring: chunked, written with per-chunk checkpoints, exactly-once after a SIGKILL and a resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.scoring import service
from mlpilot.scoring.specs import parse_output, parse_source
from tests.dataplane.factories import churn_frame, make_churn_model

ROWS, CHUNK = 400, 25


def output_urls(tmp_path: Path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'warehouse.db'}"]
    for var in ("MLPILOT_TEST_POSTGRES_URL", "MLPILOT_TEST_MYSQL_URL"):
        if os.environ.get(var):
            urls.append(os.environ[var])
    return urls


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_churn_model(tmp_path_factory.mktemp("model") / "churn")


@pytest.fixture
def source_frame() -> pl.DataFrame:
    frame = churn_frame(ROWS, seed=3).drop("churn")
    return frame.with_columns(pl.Series("customer_id", range(1, ROWS + 1), dtype=pl.Int64))


@pytest.fixture
def table() -> Iterator[str]:
    name = f"scores_{uuid.uuid4().hex[:10]}"
    yield name


def write_source_table(url: str, name: str, frame: pl.DataFrame) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    types = {pl.Float64: sa.Float(53), pl.Int64: sa.BigInteger(), pl.Boolean: sa.Boolean()}
    tbl = sa.Table(name, meta, *[sa.Column(c, types.get(d, sa.String(50))) for c, d in frame.schema.items()])
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(tbl.insert(), frame.with_columns(pl.col(pl.Float64).fill_nan(None)).to_dicts())
    engine.dispose()


def read_table(url: str, name: str) -> pl.DataFrame:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM {name}"))
        frame = pl.DataFrame([dict(r._mapping) for r in result])
    engine.dispose()
    return frame


def drop_tables(url: str, *names: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name in names:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    engine.dispose()


def assert_exactly_once(frame: pl.DataFrame) -> None:
    assert frame.height == ROWS
    assert sorted(frame["customer_id"].to_list()) == list(range(1, ROWS + 1))
    assert set(frame["prediction"].unique().to_list()) <= {"yes", "no"}
    assert {"proba_yes", "proba_no"} <= set(frame.columns)


def test_file_to_parquet_and_csv(live_runtime: Runtime, model_dir: Path, source_frame: pl.DataFrame,
                                 tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source_frame.write_csv(source)
    for out in ("out.parquet", "out.csv"):
        with session_scope(live_runtime.sessions) as session:
            run = service.create_run(session, guard=live_runtime.allowlist,
                                     source=parse_source({"kind": "file", "path": str(source)}),
                                     output=parse_output({"kind": "file", "path": str(tmp_path / out)}),
                                     model_path=str(model_dir), chunk_rows=CHUNK,
                                     keep=["customer_id", "plan"])
        result = service.execute_run(live_runtime, run.id)
        assert result.rows == ROWS and result.chunks_scored == ROWS // CHUNK
        frame = pl.read_parquet(tmp_path / out) if out.endswith("parquet") else pl.read_csv(tmp_path / out)
        assert_exactly_once(frame)
        assert frame.columns[:3] == ["customer_id", "plan", "prediction"]
        assert not (tmp_path / f"{out}.parts").exists()
        # Running a finished run again changes nothing.
        assert service.execute_run(live_runtime, run.id) == result
        with session_scope(live_runtime.sessions) as session:
            done = service.get_run(session, run_id=run.id)
            assert (done.state, done.rows_done, done.chunks_done) == ("succeeded", ROWS, ROWS // CHUNK)


def test_sql_to_sql_on_every_database(live_runtime: Runtime, model_dir: Path, source_frame: pl.DataFrame,
                                      tmp_path: Path, table: str) -> None:
    for url in output_urls(tmp_path):
        src = f"src_{table}"
        write_source_table(url, src, source_frame)
        try:
            with session_scope(live_runtime.sessions) as session:
                query = f"SELECT * FROM {src} ORDER BY customer_id"
                run = service.create_run(session, guard=live_runtime.allowlist,
                                         source=parse_source({"kind": "sql", "url": url, "query": query}),
                                         output=parse_output({"kind": "sql", "url": url, "table": table}),
                                         model_path=str(model_dir), chunk_rows=CHUNK)
            service.execute_run(live_runtime, run.id)
            assert_exactly_once(read_table(url, table))
        finally:
            drop_tables(url, src, table)


CRASHER = """
import sys, time
from mlpilot.core.runtime import Runtime
from mlpilot.scoring import service
from mlpilot.settings import Settings

runtime = Runtime.from_settings(Settings())

def slow(chunk):
    print(f"chunk {chunk.index}", flush=True)
    time.sleep(0.2)

service.execute_run(runtime, int(sys.argv[1]), on_chunk=slow)
print("finished", flush=True)
"""


def kill_mid_run(live_runtime: Runtime, run_id: int, tmp_path: Path) -> None:
    """Run the scoring in a worker process and SIGKILL it once three chunks are committed."""
    env = {**os.environ, "MLPILOT_DATABASE_URL": live_runtime.settings.database_url_resolved,
           "MLPILOT_DATA_DIR": str(live_runtime.settings.data_dir),
           "MLPILOT_SOURCES__ROOTS": json.dumps([str(root) for root in live_runtime.settings.sources.roots]),
           "MLPILOT_SOURCES__HOSTS": json.dumps(live_runtime.settings.sources.hosts)}
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER)
    worker = subprocess.Popen([sys.executable, str(script), str(run_id)], stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.PIPE,
                              env=env, cwd=Path(__file__).resolve().parents[2])
    try:
        for line in worker.stdout:
            assert line.strip() != "finished", "the worker finished before it could be killed"
            if line.strip() == "chunk 2":
                os.kill(worker.pid, signal.SIGKILL)
                break
    finally:
        worker.wait(30)
    assert worker.returncode == -signal.SIGKILL, worker.stderr.read()[-3000:]


def test_sigkill_then_resume_writes_every_prediction_exactly_once(
        live_runtime: Runtime, model_dir: Path, source_frame: pl.DataFrame, tmp_path: Path, table: str) -> None:
    source = tmp_path / "in.parquet"
    source_frame.write_parquet(source)
    outputs = [{"kind": "file", "path": str(tmp_path / "scored.parquet")}]
    outputs += [{"kind": "sql", "url": url, "table": table} for url in output_urls(tmp_path)]
    for output in outputs:
        with session_scope(live_runtime.sessions) as session:
            run = service.create_run(session, guard=live_runtime.allowlist,
                                     source=parse_source({"kind": "file", "path": str(source)}),
                                     output=parse_output(output),
                                     model_path=str(model_dir), chunk_rows=CHUNK)
        try:
            kill_mid_run(live_runtime, run.id, tmp_path)
            with session_scope(live_runtime.sessions) as session:
                crashed = service.get_run(session, run_id=run.id)
                assert crashed.state == "running" and 3 <= crashed.chunks_done < ROWS // CHUNK
            result = service.execute_run(live_runtime, run.id)
            assert result.chunks_skipped >= 3 and result.chunks_scored + result.chunks_skipped == ROWS // CHUNK
            frame = (pl.read_parquet(output["path"]) if output["kind"] == "file"
                     else read_table(output["url"], table))
            assert_exactly_once(frame)
        finally:
            if output["kind"] == "sql":
                drop_tables(output["url"], table)


def test_bad_specs_are_refused_with_clear_messages(live_runtime: Runtime, model_dir: Path, tmp_path: Path) -> None:
    good_source = {"kind": "file", "path": str(tmp_path / "x.csv")}
    cases = [
        ({"source": {"kind": "ftp"}, "output": {"kind": "file", "path": "o.csv"}, "model_path": str(model_dir)},
         r"source\.kind: must be 'sql' or 'file'"),
        ({"source": {"kind": "file", "path": "x.csv", "pth": "typo"}, "output": {"kind": "file", "path": "o.csv"},
          "model_path": str(model_dir)}, r"source\.pth: is not a setting of this kind"),
        ({"source": good_source, "output": {"kind": "file", "path": ""}, "model_path": str(model_dir)},
         r"output\.path: is required"),
        ({"source": good_source, "output": {"kind": "sql", "url": "sqlite://", "table": "bad name"},
          "model_path": str(model_dir)}, r"output\.table: string should match pattern"),
        ({"source": good_source, "output": {"kind": "file", "path": "o.csv"}}, "exactly one model"),
        ({"source": good_source, "output": {"kind": "sql", "url": "sqlite://"}, "model_path": str(model_dir)},
         r"output\.table: is required"),
        ({"source": {"kind": "sql", "url": "sqlite://"}, "output": {"kind": "file", "path": "o.csv"},
          "model_path": str(model_dir)}, "either a table or a query"),
    ]
    with session_scope(live_runtime.sessions) as session:
        for kwargs, message in cases:
            with pytest.raises(InvalidInput, match=message):
                service.create_run(session, guard=live_runtime.allowlist,
                                   **{**kwargs, "source": parse_source(kwargs["source"]),
                                      "output": parse_output(kwargs["output"])})
    with session_scope(live_runtime.sessions) as session:
        run = service.create_run(session, guard=live_runtime.allowlist,
                                 source=parse_source(good_source),
                                 output=parse_output({"kind": "file", "path": str(tmp_path / "o.txt")}),
                                 model_path=str(model_dir))
    with pytest.raises(InvalidInput):
        service.execute_run(live_runtime, run.id)
    with session_scope(live_runtime.sessions) as session:
        failed = service.get_run(session, run_id=run.id)
        assert failed.state == "failed" and failed.error


def test_api_runs_a_job_and_reports_progress(client: TestClient, model_dir: Path, source_frame: pl.DataFrame,
                                             tmp_path: Path) -> None:
    source_frame.write_csv(tmp_path / "in.csv")
    made = client.post("/api/v1/scoring/runs", json={
        "model_path": str(model_dir), "source": {"kind": "file", "path": str(tmp_path / "in.csv")},
        "output": {"kind": "file", "path": str(tmp_path / "api.parquet")}, "chunk_rows": 100})
    assert made.status_code == 201, made.text
    run_id, job_id = made.json()["id"], made.json()["job_id"]
    for _ in range(600):
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            break
        import time

        time.sleep(0.05)
    assert job["state"] == "succeeded", job
    run = client.get(f"/api/v1/scoring/runs/{run_id}").json()
    assert run["state"] == "succeeded" and run["rows_done"] == ROWS
    assert_exactly_once(pl.read_parquet(tmp_path / "api.parquet"))
    again = client.post(f"/api/v1/scoring/runs/{run_id}/resume")
    assert again.status_code == 409 and "already finished" in again.text
    from tests.projects.factories import login

    login(client)
    page = client.get("/scoring")
    assert page.status_code == 200 and "api.parquet" in page.text and "succeeded" in page.text
    assert "every 3s" not in page.text  # nothing active: the list stops polling
    assert client.get("/scoring/_runs").status_code == 200


def test_scoring_page_empty_state(client: TestClient) -> None:
    from tests.projects.factories import login

    login(client)
    page = client.get("/scoring")
    assert page.status_code == 200 and "No scoring runs yet" in page.text


def test_cli_run_status_and_resume(tmp_path: Path, model_dir: Path, source_frame: pl.DataFrame,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from mlpilot.cli.main import app
    from mlpilot.settings import get_settings

    monkeypatch.setenv("MLPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MLPILOT_DATABASE_URL", f"sqlite:///{tmp_path / 'meta.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("MLPILOT_SOURCES__ROOTS", json.dumps([str(tmp_path.parent)]))
    get_settings.cache_clear()
    try:
        source_frame.write_csv(tmp_path / "in.csv")
        runner = CliRunner()
        empty = runner.invoke(app, ["scoring", "status"])
        assert empty.exit_code == 0 and "No scoring runs yet" in empty.output
        done = runner.invoke(app, ["scoring", "run", "--model", str(model_dir), "--source-file",
                                   str(tmp_path / "in.csv"), "--out-file", str(tmp_path / "out.csv"),
                                   "--chunk-rows", "100", "--keep", "customer_id"])
        assert done.exit_code == 0, done.output
        assert "Run 1 done" in done.output and "400 rows" in done.output
        assert_exactly_once(pl.read_csv(tmp_path / "out.csv"))
        status = runner.invoke(app, ["scoring", "status", "1"])
        assert "succeeded" in status.output
        again = runner.invoke(app, ["scoring", "resume", "1"])
        assert again.exit_code == 0 and "Run 1 done" in again.output
        bad = runner.invoke(app, ["scoring", "run", "--model", str(model_dir), "--source-file", "x.csv",
                                  "--out-file", str(tmp_path / "o.csv")])
        assert bad.exit_code == 1 and "Scoring failed" in bad.output
        missing = runner.invoke(app, ["scoring", "status", "99"])
        assert missing.exit_code == 1 and "does not exist" in missing.output
    finally:
        get_settings.cache_clear()


def test_a_run_whose_job_died_with_the_server_is_marked_resumable(live_runtime: Runtime, model_dir: Path,
                                                                  tmp_path: Path) -> None:
    from mlpilot.core.db import unit_of_work
    from mlpilot.core.jobs import Job, reclaim_expired_jobs

    with session_scope(live_runtime.sessions) as session:
        run = service.create_run(session, guard=live_runtime.allowlist,
                                 source=parse_source({"kind": "file", "path": str(tmp_path / "x.csv")}),
                                 output=parse_output({"kind": "file", "path": str(tmp_path / "o.csv")}),
                                 model_path=str(model_dir))
        cli_run = service.create_run(session, guard=live_runtime.allowlist,
                                     source=parse_source({"kind": "file", "path": str(tmp_path / "x.csv")}),
                                     output=parse_output({"kind": "file", "path": str(tmp_path / "p.csv")}),
                                     model_path=str(model_dir))
        with unit_of_work(session):
            job = Job(kind=service.JOB_KIND, params={"run_id": run.id}, state="running")
            session.add(job)
            session.flush()
            run.job_id, run.state, cli_run.state = job.id, "running", "running"
    with session_scope(live_runtime.sessions) as session:
        assert reclaim_expired_jobs(session) == 1  # a lease-less job: its process is gone
        assert service.get_run(session, run_id=run.id).state == "failed"
        assert "resume" in service.get_run(session, run_id=run.id).error
        assert service.get_run(session, run_id=cli_run.id).state == "running"


def test_database_passwords_are_stored_encrypted_and_still_connect(live_runtime: Runtime, model_dir: Path,
                                                                   source_frame: pl.DataFrame, tmp_path: Path,
                                                                   table: str) -> None:
    settings = live_runtime.settings
    sealed = service.seal(settings, {"kind": "sql", "url": "postgresql://scorer:p%40ss:w0rd@db.example/dwh",
                                     "table": "t", "password": "other-secret"})
    assert "p@ss" not in str(sealed) and "w0rd" not in str(sealed) and "other-secret" not in str(sealed)
    assert sealed["url"] == "postgresql://scorer@db.example/dwh" and sealed["sealed"]
    opened = service.unseal(settings, sealed)
    assert sa.engine.make_url(opened["url"]).password == "p@ss:w0rd" and opened["password"] == "other-secret"
    assert service.unseal(settings, {"kind": "file", "path": "x.csv"}) == {"kind": "file", "path": "x.csv"}
    with pytest.raises(InvalidInput, match="stored encrypted"):
        service.seal(None, {"kind": "sql", "url": "postgresql://u:p@h/d", "table": "t"})

    # A real run whose URL carries a password (PostgreSQL here trusts local connections, so any password
    # connects): nothing readable in the database, and scoring still reaches the warehouse.
    pg = os.environ.get("MLPILOT_TEST_POSTGRES_URL")
    if not pg:
        pytest.skip("set MLPILOT_TEST_POSTGRES_URL to score against PostgreSQL with a password")
    url = sa.engine.make_url(pg).set(password="s3cret-pw").render_as_string(hide_password=False)
    src = f"src_{table}"
    write_source_table(pg, src, source_frame)
    try:
        with session_scope(live_runtime.sessions) as session:
            run = service.create_run(session, guard=live_runtime.allowlist,
                                     source=parse_source({"kind": "sql", "url": url, "table": src}),
                                     output=parse_output({"kind": "sql", "url": url, "table": table}),
                                     model_path=str(model_dir), chunk_rows=CHUNK, settings=settings)
        with live_runtime.engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT source, output FROM scoring_runs WHERE id = :i"),
                               {"i": run.id}).one()
        assert "s3cret-pw" not in str(raw)
        service.execute_run(live_runtime, run.id)
        assert read_table(pg, table).height == ROWS
    finally:
        drop_tables(pg, src, table)


def _wait_job(client: TestClient, job_id: int) -> dict:
    import time

    for _ in range(600):
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_scoring_through_a_service_follows_its_backend_swaps(client: TestClient, source_frame: pl.DataFrame,
                                                             tmp_path: Path) -> None:
    from tests.projects.factories import api_project
    from tests.serving.factories import deploy, make_model_version

    runtime = client.app.state.runtime
    project = api_project(client)
    v1 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v1"))
    v2 = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "v2", rounds=3))
    deploy(client, project_id=project["id"], name="churn", model_version_id=v1)
    source_frame.write_csv(tmp_path / "in.csv")

    def score(out: str) -> dict:
        made = client.post("/api/v1/scoring/runs", json={
            "service": "churn", "source": {"kind": "file", "path": str(tmp_path / "in.csv")},
            "output": {"kind": "file", "path": str(tmp_path / out)}, "chunk_rows": 100})
        assert made.status_code == 201, made.text
        assert _wait_job(client, made.json()["job_id"])["state"] == "succeeded"
        return client.get(f"/api/v1/scoring/runs/{made.json()['id']}").json()

    first = score("v1.parquet")
    assert first["scored_by"] == "model:churn v1" and first["service_name"] == "churn"
    assert first["model_version_id"] == v1 and first["rows_done"] == ROWS
    # The service moves to v2: the same run definition now scores with v2, nothing else changes.
    deploy(client, project_id=project["id"], name="churn", model_version_id=v2)
    second = score("v2.parquet")
    assert second["scored_by"] == "model:churn v2" and second["model_version_id"] == v2
    assert_exactly_once(pl.read_parquet(tmp_path / "v2.parquet"))
    bad = client.post("/api/v1/scoring/runs", json={
        "service": "churn", "model_version_id": v1, "source": {"kind": "file", "path": str(tmp_path / "in.csv")},
        "output": {"kind": "file", "path": str(tmp_path / "x.parquet")}})
    assert bad.status_code == 422 and "exactly one model" in bad.text
    missing = client.post("/api/v1/scoring/runs", json={
        "service": "nope", "source": {"kind": "file", "path": str(tmp_path / "in.csv")},
        "output": {"kind": "file", "path": str(tmp_path / "x.parquet")}})
    assert missing.status_code == 404 and "nope" in missing.text
