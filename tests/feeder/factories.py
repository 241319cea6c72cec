"""Builders for feeder tests: a real SQLite database as the source, its connection, and pipelines."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mlpilot.accounts import service as accounts_service
from mlpilot.connections import service as connections_service
from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.feeder import service as feeder_service
from mlpilot.feeder.models import Pipeline, PipelineRun
from mlpilot.projects import service as projects_service

FEEDER_SETTINGS = {"retry_attempts": 3, "retry_base_delay_s": 0.01, "scheduler_enabled": False}


class SourceDatabase:
    """A legacy-style SQLite database with an `orders` table that grows between pipeline runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.next_id = 1
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL, region TEXT, churn TEXT)")

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def add_rows(self, count: int) -> None:
        """Append `count` rows with increasing ids."""
        rows = []
        for _ in range(count):
            i = self.next_id
            rows.append((i, round(10 + (i * 7919) % 97 * 1.5, 2), ("서울", "부산", "대구")[i % 3],
                         "yes" if (i * 31) % 7 < 3 else "no"))
            self.next_id += 1
        with sqlite3.connect(self.path) as conn:
            conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", rows)

    def execute(self, sql: str) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute(sql)


def admin_id(session: Session) -> int:
    """Return the bootstrapped admin's id."""
    return accounts_service.find_user_by_username(session, username="admin").id


def create_project(session: Session, name: str = "Feeder pilot") -> int:
    """Create a project owned by the admin (the name made unique) and return its id."""
    admin = accounts_service.find_user_by_username(session, username="admin")
    return projects_service.create_project(session, name=f"{name} {uuid.uuid4().hex[:8]}", user=admin).id


def create_sql_connection(session: Session, runtime: Runtime, *, project_id: int, url: str,
                          name: str = "legacy orders", table: str = "orders",
                          watermark_column: str | None = "id") -> int:
    """Record a SQL connection to `url` and return its id."""
    settings: dict[str, Any] = {"url": url, "table": table}
    if watermark_column:
        settings["watermark_column"] = watermark_column
    return connections_service.create_connection(session, runtime=runtime, project_id=project_id, name=name,
                                                 kind="sql", settings=settings).id


def create_pipeline(session: Session, *, project_id: int, connection_id: int, **kwargs: Any) -> Pipeline:
    """Create a pipeline into dataset 'orders' (manual only unless a schedule is given)."""
    values: dict[str, Any] = {"name": "nightly orders", "dataset_name": "orders", "user_id": admin_id(session)}
    values.update(kwargs)
    return feeder_service.create_pipeline(session, project_id=project_id, connection_id=connection_id, **values)


def run_and_wait(runtime: Runtime, pipeline_id: int) -> PipelineRun:
    """Start a run of the pipeline as its job, wait for the job, and return the finished run."""
    with session_scope(runtime.sessions) as session:
        run = feeder_service.start_pipeline_run(session, runtime=runtime, pipeline_id=pipeline_id,
                                                user_id=admin_id(session))
        run_id, job_id = run.id, run.job_id
    jobs.wait_for_job(runtime, job_id, timeout=120)
    with session_scope(runtime.sessions) as session:
        return feeder_service.get_pipeline_run(session, run_id=run_id)


def wait_for_all_jobs(runtime: Runtime) -> None:
    """Wait until no job of the runtime's database is queued or running."""
    with session_scope(runtime.sessions) as session:
        pending = [j.id for j in jobs.list_jobs(session, limit=500) if j.state not in jobs.FINISHED]
    for job_id in pending:
        jobs.wait_for_job(runtime, job_id, timeout=120)
