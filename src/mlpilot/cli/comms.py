"""`mlpilot pmo digest|meetings|deliverables …`: the client communication log and sign-off from a terminal
(commands of the `pmo` group, kept in their own module)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, print_table
from mlpilot.cli.pmo import app

ProjectArg = Annotated[str, typer.Argument(help="Project id or name.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@app.command()
def digest(project: ProjectArg, as_json: JsonFlag = False,
           send: Annotated[bool, typer.Option("--send", help="E-mail it to the digest's recipients now.")] = False,
           ) -> None:
    """Show this week's client digest (schedule, risks, model and service figures); --send e-mails it."""
    with api_client() as client:
        found = client.find_project(project)
        base = f"/api/v1/projects/{found['id']}"
        figures = client.get_object(f"{base}/digest")
        sent = client.post_object(f"{base}/digest/send") if send else None
    if as_json:
        _emit({"digest": figures, "email": sent} if send else figures)
        return
    console.print(f"{figures['project_name']} · {figures['week']}: {figures['percent_done']}% done, "
                  f"{figures['late_items']} late, forecast P50 {figures['forecast_p50'] or '—'} / "
                  f"P85 {figures['forecast_p85'] or '—'}; {figures['open_risks']} open risks; "
                  f"{figures['overdue_requests']} overdue requests; "
                  f"{figures['deliverables_awaiting']} deliverables awaiting the client")
    best = figures["best_model"]
    if best:
        console.print(f"Best run {best['run_id']} ({best['engine']}): {best['metric_name']} = {best['metric_value']}")
    print_table(figures["services"], ["name", "state", "requests", "errors", "error_rate", "latency_p95_ms"],
                title="Services (7 days)", empty="No services.")
    if sent is not None:
        console.print(f"E-mail {sent['id']} to {sent['recipients']}: {sent['state']}"
                      + (f" ({sent['last_error']})" if sent.get("last_error") else ""))


@app.command()
def meetings(project: ProjectArg, as_json: JsonFlag = False) -> None:
    """List the meetings with the client, newest first, with their action items (plan tasks)."""
    with api_client() as client:
        found = client.find_project(project)
        rows = client.get(f"/api/v1/projects/{found['id']}/meetings")
    if as_json:
        _emit(rows)
        return
    print_table([{**m, "action_items": len(m["action_items"])} for m in rows],
                ["id", "held_on", "title", "attendees", "action_items"], empty="No meetings logged.")


@app.command()
def deliverables(project: ProjectArg, as_json: JsonFlag = False) -> None:
    """List the deliverables per milestone with their versions and the client's sign-off."""
    with api_client() as client:
        found = client.find_project(project)
        rows = client.get(f"/api/v1/projects/{found['id']}/deliverables")
    if as_json:
        _emit(rows)
        return
    print_table(rows, ["id", "milestone_id", "kind", "name", "version", "status"], empty="No deliverables.")
