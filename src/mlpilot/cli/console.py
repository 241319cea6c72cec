"""Shared CLI plumbing: the API client from settings, tables, errors and job progress bars."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlpilot.client import ApiError, MlpilotClient
from mlpilot.settings import get_settings

console = Console()
# Errors are not wrapped, so a message stays whole when copied or searched.
err_console = Console(stderr=True, soft_wrap=True)


@contextmanager
def api_client() -> Iterator[MlpilotClient]:
    """Yield a client for MLPILOT_URL with MLPILOT_TOKEN; API errors become a clean exit."""
    settings = get_settings()
    token = settings.token.get_secret_value() if settings.token else None
    if not token:
        err_console.print("[red]No API token.[/] Set MLPILOT_TOKEN (create one in the UI or with "
                          "'mlpilot tokens create' while logged in).")
        raise typer.Exit(2)
    client = MlpilotClient(settings.url, token)
    try:
        yield client
    except ApiError as exc:
        err_console.print(f"[red]Error {exc.status}:[/] {exc.detail}")
        raise typer.Exit(1) from None
    except OSError as exc:
        err_console.print(f"[red]Cannot reach {settings.url}:[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        client.close()


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, title: str | None = None,
                empty: str = "Nothing yet.") -> None:
    """Print rows as a Rich table (or a friendly line when there are none)."""
    if not rows:
        console.print(f"[dim]{empty}[/]")
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[_cell(row.get(column)) for column in columns])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)[:80]
    return str(value)


def print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str, ensure_ascii=False))


def follow_job(client: MlpilotClient, job_id: int, label: str) -> dict[str, Any]:
    """Show a progress bar for a job until it ends; exit non-zero when it fails."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.fields[message]}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(label, total=1.0, message="queued")

        def update(job: dict[str, Any]) -> None:
            progress.update(task, completed=job["progress"], message=(job.get("message") or "")[:60])

        job = client.wait_for_job(job_id, on_progress=update)
    if job["state"] != "succeeded":
        err_console.print(f"[red]{label} failed:[/] {job.get('error')}")
        raise typer.Exit(1)
    return job
