"""`mlpilot label …`: labeling work; `label agreement` measures agreement in a label file offline, with no server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.console import console, err_console, print_table
from mlpilot.core.errors import InvalidInput
from mlpilot.labeling.agreement import AgreementReport, agreement
from mlpilot.labeling.tables import read_label_table

app = typer.Typer(help="Labeling: agreement between annotators.", no_args_is_help=True)


@app.command("agreement")
def agreement_command(
    file: Annotated[Path, typer.Argument(help="Long table of labels: CSV/TSV, Parquet or JSON Lines.")],
    item: Annotated[str, typer.Option("--item", help="Column naming the labeled item.")],
    annotator: Annotated[str, typer.Option("--annotator", help="Column naming the annotator.")],
    label: Annotated[str, typer.Option("--label", help="Column holding the label (empty = skipped).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Fleiss' kappa, Krippendorff's alpha (nominal), pairwise Cohen's kappa and agreement with the consensus."""
    try:
        report = agreement(read_label_table(file), item=item, annotator=annotator, label=label)
    except InvalidInput as exc:
        err_console.print(f"[red]Error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(1) from None
    for note in report.notes:
        err_console.print(f"[dim]{note}[/]", highlight=False)
    if as_json:
        typer.echo(json.dumps(report.contract(), ensure_ascii=False))
        return
    _print_report(report)


def _figure(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def _print_report(report: AgreementReport) -> None:
    console.print(f"{report.n_items:,} items, {report.n_annotators} annotators", highlight=False)
    console.print(f"Fleiss' kappa:              {_figure(report.fleiss_kappa)}"
                  f"  ({report.fleiss_items:,} items with {report.fleiss_raters} raters)", highlight=False)
    console.print(f"Krippendorff's alpha (nom.): {_figure(report.krippendorff_alpha)}", highlight=False)
    print_table([vars(pair) for pair in report.cohen_kappa], ["annotator_a", "annotator_b", "kappa", "n_items"],
                title="Cohen's kappa per pair", empty="No pair of annotators labeled the same item.")
    print_table([vars(row) for row in report.per_annotator], ["annotator", "agreement_with_consensus", "n_items"],
                title="Agreement with the consensus (unique majority label)")
