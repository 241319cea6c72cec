"""`mlpilot runs …`: train models on dataset versions, read the leaderboard, show, tag and compare runs."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, follow_job, print_json, print_table

app = typer.Typer(help="Training runs, the leaderboard, run details, tags and comparison.", no_args_is_help=True)


@app.command()
def train(project: str, dataset_version: Annotated[int, typer.Option(help="Dataset version id.")],
          target: Annotated[str, typer.Option(help="Column to predict.")],
          task: Annotated[str, typer.Option(help="binary, multiclass, regression or auto.")] = "auto",
          budget: Annotated[int, typer.Option(help="Time budget in seconds.")] = 60,
          engine: Annotated[str | None, typer.Option(help="Engine (see `mlpilot runs engines`); "
                                                          "default: the built-in AutoML engine.")] = None,
          metric: Annotated[str | None, typer.Option(help="Metric to optimise and rank by.")] = None,
          sensitive_column: Annotated[str | None, typer.Option(help="Column to measure fairness over.")] = None,
          positive_class: Annotated[str | None, typer.Option(help="Class fairness treats as the favourable "
                                                                  "outcome (default: the last class).")] = None,
          experiment: Annotated[str | None, typer.Option(help="Experiment name.")] = None,
          tag: Annotated[list[str] | None, typer.Option(help="Tag (repeatable).")] = None) -> None:
    """Start a training run and follow it to the end."""
    with api_client() as client:
        found = client.find_project(project)
        started = client.post(f"/api/v1/projects/{found['id']}/runs",
                              json={"dataset_version_id": dataset_version, "target": target, "task": task,
                                    "time_budget_s": budget, "engine": engine, "metric": metric,
                                    "sensitive_column": sensitive_column, "positive_class": positive_class,
                                    "experiment": experiment,
                                    "tags": list(tag or [])})
        run_id = started["run"]["id"]
        follow_job(client, started["job_id"], f"Training run {run_id}")
        done = client.get(f"/api/v1/runs/{run_id}")
        console.print(f"Run {done['id']}: {done.get('primary_metric')} = {done.get('primary_metric_value')}")


@app.command("list")
def list_runs(project: str, tag: Annotated[str | None, typer.Option(help="Only runs with this tag.")] = None) -> None:
    """List a project's runs."""
    with api_client() as client:
        found = client.find_project(project)
        params = {"tag": tag} if tag else None
        print_table(client.get(f"/api/v1/projects/{found['id']}/runs", params=params),
                    ["id", "status", "engine", "task", "target", "primary_metric", "primary_metric_value",
                     "duration_s", "tags"], empty="No runs yet.")


@app.command()
def leaderboard(project: str) -> None:
    """Show the project's leaderboard."""
    with api_client() as client:
        found = client.find_project(project)
        print_table(client.get(f"/api/v1/projects/{found['id']}/leaderboard"),
                    ["run_id", "engine", "experiment", "task", "target", "metric_name", "metric_value", "duration_s",
                     "tags"], empty="No finished runs yet.")


@app.command()
def engines() -> None:
    """List the training engines: capabilities, installed or not, library versions."""
    with api_client() as client:
        rows = client.get("/api/v1/engines")
        for row in rows:
            row["capabilities"] = ", ".join(row["capabilities"])
            row["libraries"] = ", ".join(f"{k} {v}" for k, v in row["libraries"].items() if v)
        print_table(rows, ["name", "status", "default", "capabilities", "libraries", "reason"], empty="No engines.")


@app.command()
def show(run_id: int, as_json: Annotated[bool, typer.Option("--json", help="Print the whole run as JSON.")] = False
         ) -> None:
    """Show one run: settings, test-split metrics, fairness, top features, versions."""
    with api_client() as client:
        run = client.get(f"/api/v1/runs/{run_id}")
    if as_json:
        print_json(run)
        return
    console.print(f"[bold]Run {run['id']}[/bold] · {run['engine']} · {run['task']} · target {run['target']} · "
                  f"{run['status']}")
    if run.get("error"):
        console.print(f"[red]{run['error']}[/red]")
    console.print(f"tags: {', '.join(run['tags']) or '—'}   notes: {run['notes'] or '—'}")
    metrics = [{"metric": k, "test": v, "validation": run["validation_metrics"].get(k)}
               for k, v in run["metrics"].items()]
    print_table(metrics, ["metric", "test", "validation"], title="Metrics (held-out test split)",
                empty="No metrics yet.")
    evaluation = run.get("evaluation") or {}
    importance = [{"column": k, "permutation": v, "shap": (evaluation.get("shap") or {}).get(k)}
                  for k, v in list((evaluation.get("permutation_importance") or {}).items())[:10]]
    if importance:
        print_table(importance, ["column", "permutation", "shap"], title="Top features")
    fair = evaluation.get("fairness")
    if fair:
        print_table(fair["groups"], [k for k in fair["groups"][0]], title=f"Fairness over {fair['column']}")
        for key in ("demographic_parity_difference", "equalized_odds_difference", "mean_prediction_difference"):
            if fair.get(key) is not None:
                console.print(f"{key}: {fair[key]:.4f}")
    versions = ", ".join(f"{k} {v}" for k, v in (run.get("library_versions") or {}).items() if v)
    console.print(f"duration {run.get('duration_s')} s of {run['time_budget_s']} s · {versions}")


@app.command()
def tag(run_id: int, add: Annotated[list[str] | None, typer.Option("--add", help="Tag to add (repeatable).")] = None,
        remove: Annotated[list[str] | None, typer.Option("--remove", help="Tag to remove (repeatable).")] = None,
        notes: Annotated[str | None, typer.Option(help="Replace the run's notes.")] = None) -> None:
    """Add or remove a run's tags, or set its notes."""
    if not add and not remove and notes is None:
        raise typer.BadParameter("give --add, --remove or --notes")
    with api_client() as client:
        run = client.request("PATCH", f"/api/v1/runs/{run_id}",
                             json={"add_tags": list(add or []), "remove_tags": list(remove or []), "notes": notes})
    console.print(f"Run {run['id']} tags: {', '.join(run['tags']) or '—'}")


@app.command()
def compare(run_ids: Annotated[list[int], typer.Argument(help="Two or more run ids.")]) -> None:
    """Compare runs side by side: every test-split metric, best value marked."""
    with api_client() as client:
        result = client.get("/api/v1/runs/compare", params={"ids": ",".join(str(r) for r in run_ids)})
    heads = [f"#{r['run_id']} {r['engine']}" for r in result["runs"]]
    rows = []
    for m in result["metrics"]:
        row = {"metric": f"{m['metric']} {'↑' if m['higher_is_better'] else '↓'}"}
        for head, value, best in zip(heads, m["values"], m["best"], strict=True):
            row[head] = "—" if value is None else (f"*{value:.4f}" if best else f"{value:.4f}")
        rows.append(row)
    rows.append({"metric": "duration_s", **{h: r["duration_s"] for h, r in zip(heads, result["runs"], strict=True)}})
    print_table(rows, ["metric", *heads], title="Comparison (* = best)")
