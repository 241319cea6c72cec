"""`mlpilot services …` and `mlpilot models …`: model versions, deployment and service metrics."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, print_json, print_table

app = typer.Typer(help="Deployed AI services.", no_args_is_help=True)
models_app = typer.Typer(help="Registered model versions.", no_args_is_help=True)


@models_app.command("list")
def list_models(project: str) -> None:
    """List a project's model versions."""
    with api_client() as client:
        found = client.find_project(project)
        print_table(client.get(f"/api/v1/projects/{found['id']}/model-versions"),
                    ["id", "name", "version", "run_id", "flavor", "created_at"], empty="No model versions yet.")


@app.command()
def deploy(project: str, name: str, model_version: Annotated[int, typer.Option(help="Model version id.")],
           reason: str = "") -> None:
    """Deploy a model version as a named service (or switch an existing service to it)."""
    with api_client() as client:
        found = client.find_project(project)
        service = client.post(f"/api/v1/projects/{found['id']}/services",
                              json={"name": name, "model_version_id": model_version, "reason": reason})
        console.print(f"Service [bold]{service['name']}[/] now serves model version {model_version}: "
                      f"{client.base_url}/v2/models/{service['name']}/infer")


@app.command("list")
def list_services() -> None:
    """List services."""
    with api_client() as client:
        print_table(client.get("/api/v1/services"), ["name", "project_id", "model_version_id", "state"],
                    empty="No services yet.")


@app.command()
def show(name: str) -> None:
    """Show a service with its deployment history."""
    with api_client() as client:
        print_json(client.get(f"/api/v1/services/{name}"))


@app.command()
def metrics(name: str, window: str = "24h") -> None:
    """Show a service's traffic, errors and latency percentiles."""
    with api_client() as client:
        print_json(client.get(f"/api/v1/services/{name}/metrics", params={"window": window}))
