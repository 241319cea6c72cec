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


@app.command()
def alerts(
    add: Annotated[str | None, typer.Option("--add", help="Create a rule with this name (needs --service, "
                                                          "--metric, --threshold).")] = None,
    service: Annotated[str | None, typer.Option(help="Service the new rule watches.")] = None,
    metric: Annotated[str, typer.Option(help="error_rate, latency_p50_ms/p95/p99, requests, errors, or (from "
                                             "feedback) accuracy, rmse, mae.")] = "error_rate",
    threshold: Annotated[float | None, typer.Option(help="Fire when the metric crosses this value.")] = None,
    below: Annotated[bool, typer.Option("--below", help="Fire when the metric drops below the threshold.")] = False,
    window: Annotated[int, typer.Option(help="Window in minutes.")] = 5,
    cooldown: Annotated[int, typer.Option(help="Minutes before the rule may fire again.")] = 30,
) -> None:
    """List alert rules and recent alerts of the server, or add a rule with --add."""
    from mlpilot.cli.console import api_client, print_table

    with api_client() as client:
        if add:
            if not service or threshold is None:
                err_console.print("[red]--add needs --service and --threshold.[/]")
                raise typer.Exit(2)
            rule = client.post("/api/v1/monitoring/alert-rules", json={
                "name": add, "service": service, "metric": metric, "threshold": threshold,
                "op": "<" if below else ">", "window_minutes": window, "cooldown_minutes": cooldown})
            console.print(f"Alert rule {rule['id']} created.")
        print_table(client.get("/api/v1/monitoring/alert-rules"),
                    ["id", "name", "service", "metric", "op", "threshold", "window_minutes", "last_value",
                     "last_fired_at"], title="Alert rules", empty="No alert rules yet (add one with --add).")
        print_table(client.get("/api/v1/monitoring/alerts", params={"limit": 20}),
                    ["fired_at", "service", "metric", "value", "threshold"], title="Recent alerts",
                    empty="No alert has fired.")


@app.command()
def cost(
    window: Annotated[str, typer.Option(help="1h, 24h or 7d.")] = "24h",
    set_service: Annotated[str | None, typer.Option("--set", help="Set the unit cost of this service.")] = None,
    unit_cost: Annotated[float | None, typer.Option(help="Price of one request (with --set).")] = None,
) -> None:
    """Show where money goes: requests × unit cost and compute seconds per service."""
    from mlpilot.cli.console import api_client, print_table

    with api_client() as client:
        if set_service:
            if unit_cost is None:
                err_console.print("[red]--set needs --unit-cost.[/]")
                raise typer.Exit(2)
            client.request("PUT", f"/api/v1/monitoring/costs/{set_service}", json={"unit_cost": unit_cost})
        print_table(client.get("/api/v1/monitoring/costs", params={"window": window}),
                    ["service", "requests", "compute_seconds", "unit_cost", "cost", "share"],
                    title=f"Cost per service ({window})", empty="No traffic in this window.")


def _read_feedback(path: Path) -> list[dict[str, object]]:
    """Read {"request_id", "actual"} items from a CSV file or a JSON list (or {"feedback": [...]})."""
    import csv

    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InvalidInput(f"'{path.name}' is not valid JSON: {exc}.") from None
        items = data.get("feedback") if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidInput(f"'{path.name}' must hold a list of objects with request_id and actual.")
    elif path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            items = list(csv.DictReader(handle))
    else:
        raise InvalidInput(f"File '{path}' is neither .csv nor .json.")
    for i, item in enumerate(items):
        if not {"request_id", "actual"} <= set(item):
            raise InvalidInput(f"Row {i + 1} of '{path.name}' needs request_id and actual; it has {sorted(item)}.")
    if not items:
        raise InvalidInput(f"'{path.name}' holds no feedback rows.")
    return [{"request_id": str(item["request_id"]), "actual": item["actual"]} for item in items]


@app.command()
def feedback(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                  help="CSV or JSON with request_id and actual.")],
             service: Annotated[str, typer.Option("--service", help="Service that answered the requests.")],
             ) -> None:
    """Send ground truth (the actual outcomes of answered requests) so live accuracy / RMSE can be shown."""
    from mlpilot.cli.console import api_client

    try:
        items = _read_feedback(file)
    except InvalidInput as exc:
        err_console.print(f"[red]Cannot read {file.name}:[/] {exc}")
        raise typer.Exit(2) from None
    with api_client() as client:
        result = client.post(f"/api/v1/services/{service}/feedback", json={"feedback": items})
    console.print(f"{result['matched']} of {len(items)} outcomes joined to predictions of {service}.")
    if result["unknown"]:
        shown = ", ".join(result["unknown"][:10]) + (" …" if len(result["unknown"]) > 10 else "")
        console.print(f"[yellow]{len(result['unknown'])} unknown request ids[/] (never answered, or no longer "
                      f"kept by the server): {shown}")
