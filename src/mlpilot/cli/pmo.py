"""`mlpilot pmo …`: the project management office of a project (risks raised from evidence, …)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mlpilot.cli.console import api_client, follow_job, print_table

app = typer.Typer(help="Project management: risks, plan and schedule.", no_args_is_help=True)

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
