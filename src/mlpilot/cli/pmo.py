"""`mlpilot pmo …`: the project management office — risks raised from evidence, the critical path and the forecast."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, follow_job, print_table

app = typer.Typer(help="Project management: risks, critical path, float and the finish-date forecast.",
                  no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

RISK_KEYS = ("id", "title", "probability", "impact", "score", "status", "owner", "owner_id", "mitigation", "source",
             "due_date", "evidence_url")


@app.command()
def risks(project: Annotated[str, typer.Argument(help="Project id or name.")],
          as_json: Annotated[bool, typer.Option("--json", help="Print the risks as a JSON list.")] = False,
          status: Annotated[str | None, typer.Option(help="open, mitigating or closed.")] = None,
          scan: Annotated[bool, typer.Option("--scan", help="Scan the evidence for new risks first.")] = False,
          ) -> None:
    """List the project's risks, highest score first; `source` is "manual" or the detector that raised it."""
    with api_client() as client:
        found = client.find_project(project)
        base = f"/api/v1/projects/{found['id']}"
        if scan:
            started = client.post(f"{base}/risks/scan")
            # JSON output stays clean: no progress bar on stdout.
            if as_json:
                client.wait_for_job(started["job_id"])
            else:
                follow_job(client, started["job_id"], "Scanning evidence")
        rows = [{k: r.get(k) for k in RISK_KEYS} for r in client.get(f"{base}/risks", params={"status": status}
                                                                         if status else None)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    print_table(rows, ["id", "score", "probability", "impact", "status", "source", "owner", "title"],
                empty="No risks recorded.")


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
