"""`mlpilot monitor …`: offline monitoring tools that need no server, starting with the input-drift report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mlpilot.cli.console import console, err_console
from mlpilot.core.errors import InvalidInput

if TYPE_CHECKING:
    import polars as pl

app = typer.Typer(help="Monitoring tools that run offline on files.", no_args_is_help=True)


def _scan(path: Path) -> pl.LazyFrame:
    import polars as pl

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pl.scan_parquet(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return pl.scan_csv(path, separator="\t" if suffix == ".tsv" else ",", infer_schema_length=10_000)
    raise InvalidInput(f"File '{path}' is not CSV, TSV or Parquet (by its extension); expected .csv, .tsv or .parquet.")


@app.command()
def drift(reference: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Reference CSV/Parquet.")],
          current: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Current CSV/Parquet.")],
          out: Annotated[Path | None, typer.Option("--out", help="Write the full report as JSON here.")] = None,
          columns: Annotated[list[str] | None, typer.Option(
              "--columns", help="Compare only these columns (repeat or comma-separate).")] = None,
          method: Annotated[str, typer.Option(help="Test for every column instead of the defaults.")] = "auto",
          ) -> None:
    """Compare CURRENT with REFERENCE column by column and show which columns drifted."""
    # Imported here so that other commands do not pay for scipy and Polars at start-up.
    import polars as pl

    from mlpilot.monitoring.drift import drift_report

    names = [n.strip() for item in columns for n in item.split(",") if n.strip()] if columns else None
    try:
        with console.status("Computing drift…"):
            report = drift_report(_scan(reference), _scan(current), columns=names, method=method)
    except (InvalidInput, pl.exceptions.PolarsError) as exc:
        err_console.print(f"[red]Cannot compare {reference.name} with {current.name}:[/] {exc}")
        raise typer.Exit(1) from None
    if out:
        out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    drifted = [c for c in report.columns if c.drift_detected]
    verdict = "[red]dataset drift[/]" if report.dataset_drift else "[green]no dataset drift[/]"
    console.print(f"{verdict}: {len(drifted)} of {len(report.columns)} columns drifted "
                  f"({report.share_drifted:.0%}; threshold {report.drift_share:.0%}); "
                  f"{report.reference_rows:,} reference vs {report.current_rows:,} current rows.")
    if drifted:
        table = Table(title="Drifted columns")
        for title in ("column", "type", "test", "score", "threshold", "PSI", "missing Δ"):
            table.add_column(title, justify="left" if title in ("column", "type", "test") else "right")
        for c in drifted:
            table.add_row(c.column, c.column_type, c.method, f"{c.score:.4g}", f"{c.threshold:g}",
                          "" if c.psi is None else f"{c.psi:.4g}",
                          f"{c.missing_share_change:+.2%}")
        console.print(table)
    for name, reason in report.skipped.items():
        console.print(f"[dim]not tested: {name} ({reason})[/]")
    if out:
        console.print(f"Report written to {out}")
