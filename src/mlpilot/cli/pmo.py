"""`mlpilot pmo …`: the project management office — risks raised from evidence, the critical path and the forecast."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, follow_job, print_table

app = typer.Typer(help="Project management: risks, critical path, float, the finish-date forecast and the portfolio.",
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


@app.command()
def portfolio(as_json: JsonFlag = False,
              health: Annotated[str | None, typer.Option(help="red, amber, green or none.")] = None,
              owner: Annotated[str | None, typer.Option(help="The projects of this owner (username).")] = None,
              stage: Annotated[str | None, typer.Option(help="The projects in this stage.")] = None,
              client: Annotated[str | None, typer.Option(help="The projects whose client contains this.")] = None,
              sort: Annotated[str, typer.Option(help="health, name, client, stage, owner, due or risks.")] = "health",
              ) -> None:
    """Every project you can see with its health (schedule, risk, model vs target, services) and the reasons."""
    params = {k: v for k, v in (("health", health), ("owner", owner), ("stage", stage), ("client", client),
                                ("sort", sort)) if v}
    with api_client() as client_:
        result = client_.get_object("/api/v1/portfolio", params=params)
    if as_json:
        _emit_json(result)
        return
    rows = [{"id": r["project_id"], "project": r["name"], "health": r["health"],
             "schedule": f"{r['schedule']['status']}: {r['schedule']['reason']}",
             "risk": f"{r['risk']['status']}: {r['risk']['reason']}",
             "model": f"{r['model']['status']}: {r['model']['reason']}",
             "services": f"{r['services']['status']}: {r['services']['reason']}"} for r in result["projects"]]
    counts = result["counts"]
    console.print(f"{result['total']} project(s): {counts['red']} red, {counts['amber']} amber, "
                  f"{counts['green']} green, {counts['none']} without data")
    print_table(rows, ["id", "project", "health", "schedule", "risk", "model", "services"], title="Portfolio",
                empty="No projects match.")
