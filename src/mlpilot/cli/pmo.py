"""`mlpilot pmo …`: the project management office — risks raised from evidence, the critical path and the forecast."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, err_console, follow_job, print_table

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


class DocumentKind(StrEnum):
    plan = "plan"
    status = "status"
    interim = "interim"
    final = "final"


class DocumentFormat(StrEnum):
    pdf = "pdf"
    docx = "docx"
    hwpx = "hwpx"


class DocumentLang(StrEnum):
    ko = "ko"
    en = "en"


@app.command()
def document(project: Annotated[str, typer.Argument(help="Project id or name.")],
             kind: Annotated[DocumentKind, typer.Option("--kind", help="plan (수행계획서), status (주간/월간 보고), "
                                                        "interim (중간보고서) or final (완료보고서).")],
             fmt: Annotated[DocumentFormat, typer.Option("--format", help="pdf, docx or hwpx.")],
             lang: Annotated[DocumentLang, typer.Option("--lang", help="ko or en.")],
             out: Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)]) -> None:
    """Render a project document from the live evidence (a new version) and save it to FILE."""
    with api_client() as client:
        found = client.find_project(project)
        started = client.post_object(f"/api/v1/projects/{found['id']}/reports",
                                     json={"kind": kind.value, "locale": lang.value})
        job = client.wait_for_job(int(started["job_id"]))
        if job["state"] != "succeeded":
            err_console.print(f"[red]The document could not be rendered:[/] {job.get('error')}")
            raise typer.Exit(1)
        report_id = job["result"]["report_id"]
        content = client.get(f"/api/v1/reports/{report_id}/download", params={"format": fmt.value})
    out.write_bytes(content)
    console.print(f"{out} ({len(content):,} bytes): {kind.value} v{_version(job)} of {found['name']} "
                  f"in {lang.value}, report {report_id}")


def _version(job: dict[str, Any]) -> str:
    return str((job.get("result") or {}).get("version", "?"))
