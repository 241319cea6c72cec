"""`mlpilot worker`: a job worker process for servers started with `jobs.executor = "queue"`."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.console import console
from mlpilot.settings import get_settings


def worker(
    threads: Annotated[int | None, typer.Option(min=1, max=64, help="Jobs run at once (default: jobs.workers).")]
    = None,
    data_dir: Annotated[Path | None, typer.Option(help="The server's folder for the database, data and models.")]
    = None,
) -> None:
    """Run queued jobs from the shared database until stopped (SIGTERM or Ctrl-C lets running jobs finish)."""
    # First, so a stop asked for during the start (imports take seconds) is a clean stop too.
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    from mlpilot.core.jobs import PROCESS_OWNER
    from mlpilot.core.runtime import Runtime
    from mlpilot.core.workers import JobWorker
    from mlpilot.metadata import load_services
    from mlpilot.migrations import upgrade_database

    settings = get_settings().with_overrides(data_dir=data_dir)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = Runtime.from_settings(settings)
    upgrade_database(runtime.engine)  # a no-op when the server migrated first; never behind the server's schema
    load_services()  # every job kind's handler and recovery hook
    job_worker = JobWorker(runtime, threads=threads or settings.jobs.workers)
    runtime.executor = job_worker
    job_worker.start()
    console.print(f"mlpilot worker {PROCESS_OWNER}: running up to {job_worker.threads} job(s) at once.")
    stop.wait()
    console.print("Stopping: letting the running jobs finish…")
    job_worker.shutdown(wait=True)
    runtime.executor = None
    runtime.close()
