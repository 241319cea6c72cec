"""`mlpilot up`: the whole platform in one process on the embedded defaults."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

from mlpilot.cli.console import console
from mlpilot.settings import get_settings

if TYPE_CHECKING:
    from mlpilot.core.runtime import Runtime


def _connect_ray(runtime: Runtime) -> None:
    """Reach the Ray cluster before serving: a wrong address stops the start with one clear line."""
    from mlpilot.core.errors import MlpilotError

    try:
        with console.status(f"Connecting to the Ray cluster at {runtime.settings.jobs.ray_address}…"):
            runtime.start_executor()
    except MlpilotError as exc:
        console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None


def up(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Folder for the database, data and models.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Create the 'Customer churn' demo project once.")] = False,
    workers: Annotated[int, typer.Option(min=0, max=64, help="Run jobs in this many `mlpilot worker` processes "
                                         "instead of threads of the server (0: in the server).")] = 0,
) -> None:
    """Run the control plane, the data plane and the job workers (in one process unless --workers N)."""
    from mlpilot.app import create_app, prepare_runtime
    from mlpilot.core.runtime import Runtime

    settings = get_settings().with_overrides(host=host, port=port, data_dir=data_dir)
    if workers:
        settings = settings.model_copy(update={"jobs": settings.jobs.model_copy(update={"executor": "queue"})})
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = Runtime.from_settings(settings)
    with console.status("Preparing the database…"):
        bootstrap = prepare_runtime(runtime)
    if settings.jobs.executor == "ray":
        _connect_ray(runtime)
    url = f"http://{settings.host}:{settings.port}"
    console.rule("[bold]mlpilot")
    console.print(f"Open [bold cyan]{url}[/] and log in as [bold]admin[/].")
    if bootstrap.admin_password:
        console.print(f"First start: the admin password is [bold yellow]{bootstrap.admin_password}[/] "
                      f"(also saved in {settings.data_dir / 'initial-admin-password.txt'}).")
    else:
        console.print(f"The first admin password is in {settings.data_dir / 'initial-admin-password.txt'} "
                      "unless it was changed or set with MLPILOT_ADMIN_PASSWORD.")
    if settings.bootstrap_token:
        console.print("API and CLI: use the token from MLPILOT_BOOTSTRAP_TOKEN as 'Authorization: Bearer …'.")
    console.print(f"API docs: {url}/docs · OpenAPI: {url}/openapi.json · inference: {url}/v2/health/ready")
    on_started = None
    if demo:
        from mlpilot.demo.seed import start_demo_seeding

        console.print("Demo: building the 'Customer churn' project in the background (ready when "
                      "/v2/health/ready answers 200).")
        on_started = start_demo_seeding
    app = create_app(runtime=runtime, on_started=on_started)
    processes = _start_workers(workers, settings.data_dir)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    finally:
        _stop_workers(processes)


def _start_workers(count: int, data_dir: Path) -> list[subprocess.Popen[bytes]]:
    """Start `count` worker processes on this server's settings (they read the same environment and files)."""
    if count:
        console.print(f"Jobs run in {count} worker process(es) (`mlpilot worker`).")
    command = [sys.executable, "-m", "mlpilot", "worker", "--data-dir", str(data_dir)]
    return [subprocess.Popen(command) for _ in range(count)]


def _stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    """Ask the workers to finish their running jobs and stop; kill those that take too long."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
