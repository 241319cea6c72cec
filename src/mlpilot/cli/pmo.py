"""`mlpilot pmo …`: the project schedule — critical path and forecast."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, print_table

app = typer.Typer(help="Project schedule: critical path, float and the finish-date forecast.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _emit_json(data: Any) -> None:
    # Plain text on stdout (no colours, no wrapping) so scripts can parse it.
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@app.command("critical-path")
def critical_path(project: Annotated[str, typer.Argument(help="Project id or name.")],
                  as_json: JsonFlag = False) -> None:
    """Show the critical path, the finish date and every task's total float."""
    with api_client() as client:
        found = client.find_project(project)
        result = client.get_object(f"/api/v1/projects/{found['id']}/critical-path")
    if as_json:
        _emit_json(result)
        return
    console.print(f"Project {found['name']}: finish {result['finish'] or '—'}")
    print_table(result["tasks"], ["id", "title", "start", "finish", "float_days", "critical"],
                title="Tasks (critical: zero float)", empty="No tasks yet.")


@app.command()
def forecast(project: Annotated[str, typer.Argument(help="Project id or name.")], as_json: JsonFlag = False) -> None:
    """Show the P50/P85 finish of the project and its milestones (Monte Carlo, 10,000 draws)."""
    with api_client() as client:
        found = client.find_project(project)
        result = client.get_object(f"/api/v1/projects/{found['id']}/forecast")
    if as_json:
        _emit_json(result)
        return
    whole = result["project"]
    console.print(f"Project {found['name']}: P50 {whole['p50'] or '—'}, P85 {whole['p85'] or '—'} "
                  f"({result['draws']:,} draws, pace from {result['source']}; "
                  f"{result['finished_tasks']} finished, {result['remaining_tasks']} remaining)")
    print_table(result["milestones"], ["name", "due_date", "p50", "p85", "late_probability"],
                title="Milestones", empty="No milestones.")
