"""`mlpilot pipelines …`: training-data pipelines — create, list, show history, run now, enable or disable."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, follow_job, print_table

app = typer.Typer(help="Training-data pipelines: connection → recipe → dataset on a schedule.", no_args_is_help=True)

PIPELINE_COLUMNS = ["id", "name", "dataset_name", "mode", "schedule", "timezone", "enabled", "next_run_at",
                    "last_status"]
RUN_COLUMNS = ["id", "reason", "status", "started_at", "rows_read", "rows_written", "dataset_version_id",
               "training_run_id", "attempts", "message"]


def _row(pipeline: dict[str, Any]) -> dict[str, Any]:
    last = pipeline.get("last_run") or {}
    return {**pipeline, "schedule": pipeline.get("schedule") or "manual", "last_status": last.get("status", "")}


@app.command("list")
def list_pipelines(project: str) -> None:
    """List a project's pipelines with their next run and last status."""
    with api_client() as client:
        found = client.find_project(project)
        rows = [_row(p) for p in client.get(f"/api/v1/projects/{found['id']}/pipelines")]
        print_table(rows, PIPELINE_COLUMNS, empty="No pipelines yet: create one with 'mlpilot pipelines create'.")


@app.command()
def create(project: str,
           name: Annotated[str, typer.Option(help="Pipeline name.")],
           connection: Annotated[int, typer.Option(help="Id of the project's connection to read from.")],
           dataset: Annotated[str, typer.Option(help="Dataset that receives each run's rows as a new version.")],
           schedule: Annotated[str | None, typer.Option(help="Cron expression, e.g. '0 2 * * *'.")] = None,
           timezone: Annotated[str, typer.Option(help="Time zone of the schedule.")] = "UTC",
           recipe_version: Annotated[int | None, typer.Option(help="Recipe version applied to new rows.")] = None,
           mode: Annotated[str, typer.Option(help="append (add new rows) or replace.")] = "append",
           train_after: Annotated[int | None, typer.Option(help="Start training after this many new rows.")] = None,
           target: Annotated[str | None, typer.Option(help="Target column of that training.")] = None,
           budget: Annotated[float, typer.Option(help="Training time budget in seconds.")] = 60.0) -> None:
    """Create a pipeline; with --train-after and --target it also starts training on enough new rows."""
    triggers = []
    if train_after is not None or target:
        triggers.append({"kind": "min_new_rows", "rows": train_after,
                         "train": {"target": target or "", "time_budget_s": budget}})
    body = {"name": name, "connection_id": connection, "dataset_name": dataset, "schedule": schedule,
            "timezone": timezone, "recipe_version_id": recipe_version, "mode": mode, "triggers": triggers}
    with api_client() as client:
        found = client.find_project(project)
        created = client.post(f"/api/v1/projects/{found['id']}/pipelines", json=body)
        when = created.get("next_run_at") or "only when run by hand"
        console.print(f"Created pipeline [bold]{created['name']}[/] (id {created['id']}); next run: {when}.")


@app.command()
def show(pipeline_id: int) -> None:
    """Show a pipeline and its run history."""
    with api_client() as client:
        pipeline = client.get(f"/api/v1/pipelines/{pipeline_id}")
        print_table([_row(pipeline)], PIPELINE_COLUMNS)
        print_table(pipeline["runs"], RUN_COLUMNS, title="Runs", empty="No runs yet.")


@app.command()
def run(pipeline_id: int,
        wait: Annotated[bool, typer.Option(help="Follow the run with a progress bar until it ends.")] = True) -> None:
    """Run a pipeline now."""
    with api_client() as client:
        started = client.post(f"/api/v1/pipelines/{pipeline_id}/run")
        console.print(f"Started run {started['run']['id']} (job {started['job_id']}).")
        if wait:
            follow_job(client, started["job_id"], "Pipeline run")
            result = client.get(f"/api/v1/pipeline-runs/{started['run']['id']}")
            console.print(f"{result['message']} — read {result['rows_read']:,} rows, wrote "
                          f"{result['rows_written']:,}.")


def _set_enabled(pipeline_id: int, enabled: bool) -> None:
    with api_client() as client:
        pipeline = client.request("PATCH", f"/api/v1/pipelines/{pipeline_id}", json={"enabled": enabled})
        state = "enabled" if pipeline["enabled"] else "disabled"
        console.print(f"Pipeline {pipeline['name']} is {state}; next run: {pipeline.get('next_run_at') or '—'}.")


@app.command()
def enable(pipeline_id: int) -> None:
    """Enable a pipeline's schedule."""
    _set_enabled(pipeline_id, True)


@app.command()
def disable(pipeline_id: int) -> None:
    """Disable a pipeline's schedule (it can still be run by hand)."""
    _set_enabled(pipeline_id, False)
