"""`mlpilot scoring …`: batch-score a table, query or files on this machine, resumable after a crash."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlpilot.cli.console import console, err_console
from mlpilot.core.errors import MlpilotError

app = typer.Typer(help="Batch scoring runs (predictions written to a table or a CSV/Parquet file).",
                  no_args_is_help=True)


def _runtime() -> Any:
    from mlpilot.core.runtime import Runtime
    from mlpilot.migrations import upgrade_database
    from mlpilot.settings import get_settings

    runtime = Runtime.from_settings(get_settings())
    upgrade_database(runtime.engine)
    return runtime


def _execute(runtime: Any, run_id: int) -> None:
    from mlpilot.scoring import service

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"scoring run {run_id}", total=None)

        def report(chunk: Any) -> None:
            verb = "skipped (already written)" if chunk.skipped else "scored"
            bar.update(task, description=f"run {run_id}: chunk {chunk.index + 1} {verb}, {chunk.total_rows:,} rows")

        result = service.execute_run(runtime, run_id, on_chunk=report)
    console.print(f"[green]Run {run_id} done:[/] {result.rows:,} rows, {result.chunks_scored} chunk(s) scored, "
                  f"{result.chunks_skipped} already written → {result.output}")


def _fail(exc: MlpilotError) -> None:
    err_console.print(f"[red]Scoring failed:[/] {exc.detail}")
    raise typer.Exit(1)


@app.command()
def run(
    model: Annotated[str | None, typer.Option(help="Model folder (mlpilot-model.json inside).")] = None,
    model_version: Annotated[int | None, typer.Option(help="Registered model version id.")] = None,
    service_name: Annotated[str | None, typer.Option(
        "--service", help="Deployed service: its current primary backend scores (nothing to change on a swap).")
    ] = None,
    source_file: Annotated[str | None, typer.Option(help="Input file, folder or glob (CSV, Parquet…).")] = None,
    source_url: Annotated[str | None, typer.Option(help="Input database URL (SQLAlchemy).")] = None,
    source_table: Annotated[str | None, typer.Option(help="Input table.")] = None,
    source_query: Annotated[str | None, typer.Option(help="Input SELECT (use ORDER BY for resumable runs).")] = None,
    out_file: Annotated[str | None, typer.Option(help="Output .csv or .parquet file.")] = None,
    out_url: Annotated[str | None, typer.Option(help="Output database URL.")] = None,
    out_table: Annotated[str | None, typer.Option(help="Output table (created when missing).")] = None,
    keep: Annotated[str | None, typer.Option(help="Source columns to copy next to predictions (comma list).")] = None,
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows per chunk (one checkpoint each).")] = 50_000,
) -> None:
    """Score a source with a model and write predictions; prints the run id to resume it after a crash."""
    from mlpilot.core.db import session_scope
    from mlpilot.scoring import service
    from mlpilot.scoring.specs import parse_output, parse_source

    runtime = _runtime()
    try:
        source = parse_source({"kind": "file", "path": source_file} if source_file else
                              {"kind": "sql", "url": source_url, "table": source_table, "query": source_query})
        output = parse_output({"kind": "file", "path": out_file} if out_file else
                              {"kind": "sql", "url": out_url, "table": out_table})
        with session_scope(runtime.sessions) as session:
            made = service.create_run(session, source=source, output=output, model_version_id=model_version,
                                      service_name=service_name,
                                      model_path=model, chunk_rows=chunk_rows, settings=runtime.settings,
                                      guard=runtime.allowlist,
                                      keep=[k.strip() for k in keep.split(",") if k.strip()] if keep else None)
            run_id = made.id
        console.print(f"Scoring run {run_id} created (resume with 'mlpilot scoring resume {run_id}').")
        _execute(runtime, run_id)
    except MlpilotError as exc:
        _fail(exc)
    finally:
        runtime.close()


@app.command()
def resume(run_id: Annotated[int, typer.Argument(help="Scoring run id.")]) -> None:
    """Continue an interrupted run: chunks already written are skipped, so nothing is written twice."""
    runtime = _runtime()
    try:
        _execute(runtime, run_id)
    except MlpilotError as exc:
        _fail(exc)
    finally:
        runtime.close()


@app.command()
def status(run_id: Annotated[int | None, typer.Argument(help="Scoring run id (all when omitted).")] = None) -> None:
    """Show scoring runs: state, chunks and rows written, errors."""
    from mlpilot.core.db import session_scope
    from mlpilot.scoring import service

    runtime = _runtime()
    try:
        with session_scope(runtime.sessions) as session:
            runs = [service.get_run(session, run_id=run_id)] if run_id else service.list_runs(session)
            if not runs:
                console.print("No scoring runs yet. Start one with 'mlpilot scoring run'.")
                return
            table = Table(title="Scoring runs")
            for title in ("id", "state", "chunks", "rows", "attempts", "output", "error"):
                table.add_column(title)
            for r in runs:
                out = r.output.get("path") or r.output.get("table") or ""
                table.add_row(str(r.id), r.state, str(r.chunks_done), f"{r.rows_done:,}", str(r.attempts), str(out),
                              (r.error or "")[:80])
            console.print(table)
    except MlpilotError as exc:
        _fail(exc)
    finally:
        runtime.close()
