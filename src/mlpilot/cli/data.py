"""`mlpilot data …`: work on data files directly; `data profile` profiles a file offline, with no server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from mlpilot.cli import connections
from mlpilot.cli.console import err_console
from mlpilot.core.errors import InvalidInput
from mlpilot.datasets import profiling
from mlpilot.datasets.profile_files import profile_file

app = typer.Typer(help="Data files and connections.", no_args_is_help=True)
app.add_typer(connections.app, name="connections")


@app.command()
def profile(
    file: Annotated[Path, typer.Argument(help="CSV/TSV, Parquet, JSON Lines, JSON or Excel file.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the profile as JSON here (default: stdout).")]
    = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the data-quality report as HTML.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Target column: association and class checks.")]
    = None,
    task: Annotated[str | None, typer.Option("--task", help="classification or regression (default: inferred).")]
    = None,
    sample: Annotated[int | None, typer.Option("--sample", help="Profile only a seeded sample of this many rows.")]
    = None,
    max_full_rows: Annotated[int, typer.Option("--max-full-rows",
                                               help="Above this many rows, stream and sample instead.")]
    = profiling.FULL_MAX_ROWS,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
) -> None:
    """Profile a data file offline: per-column statistics, correlations and data-quality warnings as JSON."""
    with Progress(TextColumn("[bold]Profiling"), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[step]}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task_id = bar.add_task("profile", total=1.0, step="opening the file")
        try:
            result = profile_file(file, target=target, task=task, full_max_rows=max_full_rows,
                                  sample_rows=sample or profiling.SAMPLE_ROWS, sampled=sample is not None, seed=seed,
                                  progress=lambda fraction, step: bar.update(task_id, completed=fraction, step=step))
        except InvalidInput as exc:
            err_console.print(f"[red]Error:[/] {exc.detail}")
            raise typer.Exit(1) from None
        except pl.exceptions.PolarsError as exc:
            err_console.print(f"[red]Error:[/] {file} cannot be profiled: {str(exc).splitlines()[0]}")
            raise typer.Exit(1) from None
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
    if html is not None:
        from mlpilot.datasets.quality_report import render_html

        html.write_text(render_html(result, title=file.name), encoding="utf-8")
    counts = {s: sum(1 for w in result["warnings"] if w["severity"] == s) for s in ("error", "warning", "info")}
    sample_note = f", sample of {result['sample_rows']:,} rows" if result.get("sample_rows") else ""
    err_console.print(f"{file.name}: {result['rows']:,} rows × {result['columns']} columns, mode {result['mode']}"
                      f"{sample_note}; {counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes "
                      f"({result['seconds']:.2f} s).")
    for warning in result["warnings"][:20]:
        colour = {"error": "red", "warning": "yellow", "info": "cyan"}[warning["severity"]]
        err_console.print(f"  [{colour}]{warning['severity']}[/] {warning['message']}", highlight=False)
    if out is not None:
        err_console.print(f"Profile written to {out}" + (f", report to {html}" if html else "") + ".", style="dim")
