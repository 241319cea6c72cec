"""`mlpilot recipes …`: define cleaning recipes, preview them on a sample and apply them to dataset versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, err_console, follow_job, print_table

app = typer.Typer(help="Cleaning recipes: versioned lists of steps applied to dataset versions.",
                  no_args_is_help=True)

StepsFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON file with the list of steps.")]


def _read_steps(path: Path) -> list[dict[str, Any]]:
    try:
        steps = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        err_console.print(f"[red]{path} is not a JSON file:[/] {exc}")
        raise typer.Exit(2) from None
    if isinstance(steps, dict) and "steps" in steps:
        steps = steps["steps"]
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        err_console.print(f"[red]{path} must hold a JSON list of steps[/] (objects with an \"op\"), "
                          "or an object whose \"steps\" is that list.")
        raise typer.Exit(2)
    return steps


@app.command("list")
def list_recipes(project: str) -> None:
    """List a project's recipes."""
    with api_client() as client:
        found = client.find_project(project)
        print_table(client.get(f"/api/v1/projects/{found['id']}/recipes"),
                    ["id", "name", "latest_version", "description"],
                    empty="No recipes yet: create one with 'mlpilot recipes create PROJECT NAME STEPS.json'.")


@app.command()
def create(project: str, name: str, steps: StepsFile,
           description: Annotated[str, typer.Option(help="What the recipe is for.")] = "") -> None:
    """Create a recipe from a JSON file of steps (version 1)."""
    with api_client() as client:
        found = client.find_project(project)
        recipe = client.post(f"/api/v1/projects/{found['id']}/recipes",
                             json={"name": name, "steps": _read_steps(steps), "description": description})
        console.print(f"Created recipe [bold]{recipe['name']}[/] (id {recipe['id']}) v1.")


@app.command("add-version")
def add_version(recipe_id: int, steps: StepsFile,
                note: Annotated[str, typer.Option(help="What changed.")] = "") -> None:
    """Save edited steps as the recipe's next version."""
    with api_client() as client:
        version = client.post(f"/api/v1/recipes/{recipe_id}/versions",
                              json={"steps": _read_steps(steps), "note": note})
        console.print(f"Saved version {version['version']} of recipe {recipe_id}.")


@app.command()
def show(recipe_id: int, version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None
         ) -> None:
    """Print the steps of a recipe version as JSON."""
    with api_client() as client:
        recipe = client.get(f"/api/v1/recipes/{recipe_id}")
        chosen = [v for v in recipe["versions"] if version is None or v["version"] == version]
        if not chosen:
            err_console.print(f"[red]Recipe {recipe['name']!r} has no version {version}.[/]")
            raise typer.Exit(1)
        console.print(f"[bold]{recipe['name']}[/] v{chosen[-1]['version']}")
        console.print_json(json.dumps(chosen[-1]["steps"], ensure_ascii=False))


@app.command()
def preview(recipe_id: int, dataset_version: int,
            version: Annotated[int | None, typer.Option(help="Recipe version (default: latest).")] = None,
            rows: Annotated[int, typer.Option(help="Sample size.")] = 200) -> None:
    """Apply a recipe to the first rows of a dataset version and show the per-step row counts."""
    with api_client() as client:
        result = client.post(f"/api/v1/recipes/{recipe_id}/preview",
                             json={"dataset_version_id": dataset_version, "version": version, "sample_rows": rows})
        print_table(result["steps"], ["step", "label", "rows_in", "rows_out", "flagged", "errors"],
                    title=f"Sample of {result['sample_rows']} rows")
        if result["error"]:
            err_console.print(f"[red]{result['error']}[/]")
            raise typer.Exit(1)
        after = result["after"]
        print_table(after["rows"][:10], after["columns"], title="After (first 10 rows)")


@app.command()
def apply(recipe_id: int, dataset_version: int,
          version: Annotated[int | None, typer.Option(help="Recipe version (default: latest).")] = None,
          output: Annotated[str | None, typer.Option(help="Dataset to write (default: <source>-<recipe>).")] = None
          ) -> None:
    """Apply a recipe to a dataset version and store the result as a new dataset version."""
    with api_client() as client:
        started = client.post(f"/api/v1/recipes/{recipe_id}/apply",
                              json={"dataset_version_id": dataset_version, "version": version,
                                    "output_name": output})
        job = follow_job(client, started["job_id"], "Applying recipe")
        result = job["result"]
        console.print(f"Stored version {result['version']} of [bold]{started['output_name']}[/] "
                      f"({result['rows_in']} → {result['rows_out']} rows, id {result['dataset_version_id']}).")
