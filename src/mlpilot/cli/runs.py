"""`mlpilot runs …`: train models on dataset versions and read the leaderboard."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, follow_job, print_table

app = typer.Typer(help="Training runs and the leaderboard.", no_args_is_help=True)


@app.command()
def train(project: str, dataset_version: Annotated[int, typer.Option(help="Dataset version id.")],
          target: Annotated[str, typer.Option(help="Column to predict.")],
          task: Annotated[str, typer.Option(help="binary, multiclass, regression or auto.")] = "auto",
          budget: Annotated[int, typer.Option(help="Time budget in seconds.")] = 60,
          engine: str = "lightgbm") -> None:
    """Start a training run and follow it to the end."""
    with api_client() as client:
        found = client.find_project(project)
        started = client.post(f"/api/v1/projects/{found['id']}/runs",
                          json={"dataset_version_id": dataset_version, "target": target, "task": task,
                                "time_budget_s": budget, "engine": engine})
        run_id = started["run"]["id"]
        follow_job(client, started["job_id"], f"Training run {run_id}")
        done = client.get(f"/api/v1/runs/{run_id}")
        console.print(f"Run {done['id']}: {done.get('primary_metric')} = {done.get('primary_metric_value')}")


@app.command("list")
def list_runs(project: str) -> None:
    """List a project's runs."""
    with api_client() as client:
        found = client.find_project(project)
        print_table(client.get(f"/api/v1/projects/{found['id']}/runs"),
                    ["id", "status", "engine", "task", "target", "primary_metric", "primary_metric_value",
                     "duration_s"], empty="No runs yet.")


@app.command()
def leaderboard(project: str) -> None:
    """Show the project's leaderboard."""
    with api_client() as client:
        found = client.find_project(project)
        print_table(client.get(f"/api/v1/projects/{found['id']}/leaderboard"),
                    ["run_id", "engine", "task", "target", "metric_name", "metric_value", "duration_s"],
                    empty="No finished runs yet.")
