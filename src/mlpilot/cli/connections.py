"""`mlpilot data connections …`: add a data connection, test it, preview its rows and ingest it with a progress bar."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, err_console, follow_job, print_table

app = typer.Typer(help="Data connections: files and databases ingested as dataset versions.", no_args_is_help=True)


def _pairs(values: list[str], option: str, *, secret: bool = False) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            err_console.print(f"[red]Error:[/] {option} expects KEY=VALUE; got {value!r}.")
            raise typer.Exit(2)
        if secret and text == "-":
            text = typer.prompt(f"{key.strip()}", hide_input=True)
        pairs[key.strip()] = text
    return pairs


@app.command()
def add(project: str, name: str,
        kind: Annotated[str, typer.Option(help="Connector kind: file or sql.")],
        setting: Annotated[list[str] | None, typer.Option(
            "--set", help="A setting KEY=VALUE (repeat), e.g. --set path=/exports/*.csv or --set table=orders.")]
        = None,
        secret: Annotated[list[str] | None, typer.Option(
            "--secret", help="A secret KEY=VALUE, stored encrypted (repeat); VALUE '-' prompts without echo.")]
        = None) -> None:
    """Add a connection to a project (secrets in a database URL are moved out and encrypted)."""
    settings = _pairs(setting or [], "--set")
    secrets = _pairs(secret or [], "--secret", secret=True)
    with api_client() as client:
        found = client.find_project(project)
        created = client.post(f"/api/v1/projects/{found['id']}/connections",
                              json={"name": name, "kind": kind, "settings": settings, "secrets": secrets})
    console.print(f"Connection [bold]{created['name']}[/] added (id {created['id']}). "
                  f"Test it: mlpilot data connections test {created['id']}")


@app.command("list")
def list_connections(project: str) -> None:
    """List a project's connections."""
    with api_client() as client:
        found = client.find_project(project)
        rows = client.get(f"/api/v1/projects/{found['id']}/connections")
    print_table([{**r, "source": r["settings"].get("path") or r["settings"].get("url"),
                  "secrets": ", ".join(r["secrets"])} for r in rows],
                ["id", "name", "kind", "source", "secrets"],
                empty="No connections yet: add one with 'mlpilot data connections add PROJECT NAME --kind …'.")


@app.command()
def test(connection_id: int) -> None:
    """Check that a connection's source can be reached and read."""
    with api_client() as client:
        result = client.post(f"/api/v1/connections/{connection_id}/test")
    if not result["ok"]:
        err_console.print(f"[red]Connection failed:[/] {result['message']}")
        raise typer.Exit(1)
    console.print(f"[green]Connection works:[/] {result['message']}")


@app.command()
def preview(connection_id: int,
            limit: Annotated[int, typer.Option(help="How many rows to show.")] = 10) -> None:
    """Show the first rows of a connection's source."""
    with api_client() as client:
        result = client.get(f"/api/v1/connections/{connection_id}/preview", params={"limit": limit})
    print_table(result["rows"], result["columns"], empty="The source has no rows.")


@app.command()
def ingest(connection_id: int,
           dataset: Annotated[str, typer.Option(help="Dataset to store the rows in, as its next version.")]) -> None:
    """Ingest a connection's (new) rows as the next version of a dataset, with a progress bar."""
    with api_client() as client:
        started = client.post(f"/api/v1/connections/{connection_id}/ingest", json={"dataset_name": dataset})
        job = follow_job(client, started["job_id"], "Ingesting")
        result = job.get("result") or {}
        console.print(result.get("message") or "Ingest finished.")
        if result.get("profile_job_id"):
            follow_job(client, result["profile_job_id"], "Profiling")
            console.print(f"Profile ready: mlpilot datasets profile {result['version_id']}")
