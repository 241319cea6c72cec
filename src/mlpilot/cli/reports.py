"""`mlpilot reports …`: render and download project status reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, follow_job, print_table

app = typer.Typer(help="Project status reports.", no_args_is_help=True)


@app.command()
def render(project: str, locale: Annotated[str, typer.Option(help="en or ko.")] = "en") -> None:
    """Render a status report from live evidence."""
    with api_client() as client:
        found = client.find_project(project)
        started = client.post(f"/api/v1/projects/{found['id']}/reports", json={"locale": locale})
        job = follow_job(client, started["job_id"], "Rendering report")
        report_id = (job.get("result") or {}).get("report_id")
        console.print(f"Report {report_id} ready: mlpilot reports download {report_id}")


@app.command("list")
def list_reports(project: str) -> None:
    """List a project's reports."""
    with api_client() as client:
        found = client.find_project(project)
        print_table(client.get(f"/api/v1/projects/{found['id']}/reports"), ["id", "title", "locale", "created_at"],
                    empty="No reports yet.")


@app.command()
def download(report_id: int, out: Annotated[Path | None, typer.Option(help="File to write.")] = None,
             fmt: Annotated[str, typer.Option("--format", help="pdf, docx, hwpx or html.")] = "pdf") -> None:
    """Download a report as PDF, DOCX, HWPX or HTML."""
    with api_client() as client:
        content = client.get(f"/api/v1/reports/{report_id}/download", params={"format": fmt})
        target = out or Path(f"report-{report_id}.{fmt}")
        target.write_bytes(content)
        console.print(f"Wrote {target} ({len(content):,} bytes).")
