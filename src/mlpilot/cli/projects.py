"""`mlpilot projects …`: list, create, show and move projects through their stages."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, print_json, print_table

app = typer.Typer(help="AI projects.", no_args_is_help=True)


@app.command("list")
def list_projects() -> None:
    """List the projects you can see."""
    with api_client() as client:
        print_table(client.get("/api/v1/projects"), ["id", "name", "client", "stage", "usecase_key"],
                    empty="No projects yet: create one with 'mlpilot projects create NAME'.")


@app.command()
def create(name: str, client_name: Annotated[str, typer.Option("--client")] = "",
           description: str = "", usecase: Annotated[str | None, typer.Option(help="Use-case key.")] = None) -> None:
    """Create a project."""
    with api_client() as client:
        project = client.post("/api/v1/projects", json={"name": name, "client": client_name,
                                                       "description": description, "usecase_key": usecase})
        console.print(f"Created project [bold]{project['name']}[/] (id {project['id']}).")


@app.command()
def show(project: str) -> None:
    """Show a project (by id or name)."""
    with api_client() as client:
        print_json(client.find_project(project))


@app.command()
def stage(project: str, stage: str, note: str = "") -> None:
    """Move a project to a stage: discover, design, data, build, deploy, operate."""
    with api_client() as client:
        found = client.find_project(project)
        updated = client.post(f"/api/v1/projects/{found['id']}/stage", json={"stage": stage, "note": note})
        console.print(f"{updated['name']} is now in stage [bold]{updated['stage']}[/].")
