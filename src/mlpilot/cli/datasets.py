"""`mlpilot datasets …`: upload files as dataset versions and read their profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, follow_job, print_json, print_table

app = typer.Typer(help="Datasets and their versions.", no_args_is_help=True)


@app.command()
def upload(project: str, file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
           name: Annotated[str | None, typer.Option(help="Dataset name (default: file name).")] = None) -> None:
    """Upload a CSV, TSV or Parquet file as a new immutable dataset version and profile it."""
    with api_client() as client:
        found = client.find_project(project)
        with console.status(f"Uploading {file.name}…"):
            uploaded = client.upload_dataset(found["id"], file, name=name)
        version = uploaded["version"]
        console.print(f"Stored version {version['version']} of [bold]{uploaded['dataset']['name']}[/] "
                      f"({version['row_count']} rows × {version['column_count']} columns, id {version['id']}).")
        follow_job(client, uploaded["profile_job_id"], "Profiling")
        console.print(f"Profile ready: mlpilot datasets profile {version['id']}")


@app.command("list")
def list_datasets(project: str) -> None:
    """List a project's datasets."""
    with api_client() as client:
        found = client.find_project(project)
        print_table(client.get(f"/api/v1/projects/{found['id']}/datasets"), ["id", "name", "description"],
                    empty="No datasets yet: upload one with 'mlpilot datasets upload PROJECT FILE'.")


@app.command()
def profile(version_id: int) -> None:
    """Show the profile of a dataset version."""
    with api_client() as client:
        result = client.get(f"/api/v1/dataset-versions/{version_id}/profile")
        columns = result.get("profile", result).get("columns", [])
        rows = [{k: c.get(k) for k in ("name", "dtype", "missing_pct", "distinct", "min", "max", "mean")}
                for c in columns]
        print_table(rows, ["name", "dtype", "missing_pct", "distinct", "min", "max", "mean"])
        if not rows:
            print_json(result)
