"""`mlpilot blueprints …`: the blueprint marketplace — list, show, export, import, instantiate.

Like the other commands it talks to the server (MLPILOT_URL with MLPILOT_TOKEN): instantiating trains and deploys
there, as a job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from mlpilot.cli.console import api_client, console, err_console, follow_job, print_table

app = typer.Typer(help="Blueprints (reference architectures): list, instantiate, export and import.",
                  no_args_is_help=True)

LIST_KEYS = ("name", "version", "origin", "title", "title_en", "title_ko", "industry", "task", "engine", "target",
             "service", "usecases", "monitors", "plan_template")


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))


@app.command("list")
def list_blueprints(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    search: Annotated[str | None, typer.Option("--search", "-q", help="Words to find (English or Korean).")] = None,
    industry: Annotated[str | None, typer.Option(help="e.g. telecom, finance, retail.")] = None,
    task: Annotated[str | None, typer.Option(help="binary, multiclass or regression.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the titles: en or ko.")] = "en",
) -> None:
    """List the blueprints (built in, published and imported)."""
    if lang not in ("en", "ko"):
        err_console.print(f"[red]--lang must be en or ko; got {lang!r}.[/]")
        raise typer.Exit(2)
    params = {k: v for k, v in {"q": search, "industry": industry, "task": task, "locale": lang}.items() if v}
    with api_client() as client:
        found = client.get("/api/v1/blueprints", params=params)
    rows = [{k: b.get(k) for k in LIST_KEYS} for b in found]
    if as_json:
        _emit_json(rows)
        return
    print_table(rows, ["name", "title", "industry", "task", "engine", "origin"], empty="No blueprint matches.")


@app.command()
def instantiate(
    name: Annotated[str, typer.Argument(help="The blueprint's name (see `mlpilot blueprints list`).")],
    project_name: Annotated[str, typer.Option("--project-name", help="Name of the new project.")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the project is created and serving.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print project_id and services as JSON (waits: the "
                                                         "project exists only once the job is done).")] = False,
    time_budget_s: Annotated[float | None, typer.Option(help="Train for at most this many seconds.")] = None,
) -> None:
    """Create a project from a blueprint: data, recipe, training, deployed service, monitors, plan, value tree."""
    body: dict[str, Any] = {"project_name": project_name}
    if time_budget_s is not None:
        body["time_budget_s"] = time_budget_s
    with api_client() as client:
        started = client.post_object(f"/api/v1/blueprints/{name}/instantiate", json=body)
        job_id = int(started["job_id"])
        if not wait and not as_json:
            console.print(f"Instantiating {name!r} as project {project_name!r}: job {job_id}. "
                          f"Follow it with `mlpilot jobs show {job_id}` or add --wait.")
            return
        if as_json:
            job = client.wait_for_job(job_id)
        else:
            job = follow_job(client, job_id, f"Instantiating {name}")
    result = job.get("result") or {}
    if as_json:
        _emit_json({"job_id": job_id, "state": job["state"], "blueprint": name, "project_name": project_name,
                    "project_id": result.get("project_id"), "services": result.get("services") or [],
                    "error": job.get("error")})
        if job["state"] != "succeeded":
            raise typer.Exit(1)
        return
    console.print(f"Project {result.get('project_name')!r} (id {result.get('project_id')}) serves "
                  f"{', '.join(result.get('services') or [])}; {result.get('metric')} = {result.get('metric_value')}.")
    if result.get("connections_to_set_up"):
        console.print("Connections to set up (enter their settings and secrets): "
                      + ", ".join(result["connections_to_set_up"]))


@app.command()
def export(name: Annotated[str, typer.Argument(help="The blueprint's name.")],
           output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")]
           = None) -> None:
    """Export a blueprint as a YAML file."""
    with api_client() as client:
        raw = client.request("GET", f"/api/v1/blueprints/{name}/export")
    text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}.")


@app.command("import")
def import_blueprint(path: Annotated[Path, typer.Argument(help="A blueprint YAML file.", exists=True,
                                                          dir_okay=False)],
                     replace: Annotated[bool, typer.Option(help="Replace a stored blueprint of that name.")] = False,
                     ) -> None:
    """Import a blueprint file (checked strictly: unknown fields and newer schema versions are refused)."""
    with api_client() as client, path.open("rb") as handle:
        made = client.post_object("/api/v1/blueprints/import", params={"replace": str(replace).lower()},
                                  files={"file": (path.name, handle, "application/yaml")})
    console.print(f"Imported blueprint {made['name']!r} v{made['version']}.")
