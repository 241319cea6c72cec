"""`mlpilot services …`: deploy, backends, traffic policies (canary, shadow), promote, rollback, audit, metrics."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from mlpilot.cli import models
from mlpilot.cli.console import api_client, console, err_console, print_json, print_table

app = typer.Typer(help="Deployed AI services.", no_args_is_help=True)
# `mlpilot models` lives in cli/models.py; the root CLI mounts it from here.
models_app = models.app


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
        print_table(client.get("/api/v1/services"), ["name", "project_id", "model_version_id", "state", "policy"],
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


def _routing(service: dict[str, Any]) -> str:
    live = service.get("live") or {}
    parts = [f"{b['role']}: {b['backend']}" + (f" ({b['weight']:.0%})" if b.get("weight") else "")
             for b in live.get("backends", [])]
    return "; ".join(parts) or "not loaded"


@app.command()
def backends(name: str) -> None:
    """List a service's backends (model versions and external engines) and their roles."""
    with api_client() as client:
        print_table(client.get(f"/api/v1/services/{name}/backends"),
                    ["id", "kind", "label", "role", "model_version_id", "created_at"], empty="No backends.")


@app.command()
def attach(
    name: str,
    model_version: Annotated[int | None, typer.Option(help="Attach this model version.")] = None,
    external_url: Annotated[str | None, typer.Option(help="Attach an external engine at this http(s) URL.")] = None,
    external_name: Annotated[str | None, typer.Option(help="Name of the external engine.")] = None,
    request_template: Annotated[str, typer.Option(help="JSON request template with $records, $instances, "
                                                       "$columns or $inputs.")] = '{"records": "$records"}',
    response_path: Annotated[str, typer.Option(help="Dotted path to the row answers.")] = "predictions",
    response_field: Annotated[str | None, typer.Option(help="Field of each row answer to read.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds before the engine counts as down.")] = 5.0,
    header: Annotated[list[str] | None, typer.Option(help="Extra header KEY=VALUE (repeatable).")] = None,
    reason: str = "",
) -> None:
    """Attach a backend; it must fit the service contract, and gets traffic only from canary/shadow/promote."""
    body: dict[str, Any] = {"reason": reason}
    if model_version is not None:
        body["model_version_id"] = model_version
    if external_url is not None:
        try:
            template = json.loads(request_template)
        except ValueError as exc:
            err_console.print(f"[red]--request-template is not valid JSON: {exc}[/]")
            raise typer.Exit(2) from None
        headers = dict(h.split("=", 1) for h in (header or []) if "=" in h)
        body["external"] = {"name": external_name or "external", "url": external_url, "request": template,
                            "response_path": response_path, "response_field": response_field,
                            "timeout_s": timeout, "headers": headers}
    with api_client() as client:
        made = client.post(f"/api/v1/services/{name}/backends", json=body)
        console.print(f"Attached backend [bold]{made['id']}[/] ({made['label']}) to {name}; it is idle until a "
                      f"canary, shadow or promote sends it traffic.")


@app.command()
def canary(name: str, backend: Annotated[int, typer.Argument(help="Candidate backend id.")],
           weight: Annotated[float, typer.Option(help="Share of requests the candidate answers, 0 < w < 1.")],
           reason: str = "") -> None:
    """Send a share of the traffic to a candidate backend."""
    with api_client() as client:
        found = client.request("PUT", f"/api/v1/services/{name}/traffic",
                               json={"policy": "canary", "backend_id": backend, "weight": weight, "reason": reason})
        console.print(f"{name}: {_routing(found)}")


@app.command()
def shadow(name: str, backend: Annotated[int, typer.Argument(help="Candidate backend id.")],
           reason: str = "") -> None:
    """Mirror every request to a candidate backend; its answers are discarded and compared."""
    with api_client() as client:
        found = client.request("PUT", f"/api/v1/services/{name}/traffic",
                               json={"policy": "shadow", "backend_id": backend, "reason": reason})
        console.print(f"{name}: {_routing(found)}")


@app.command()
def single(name: str, reason: str = "") -> None:
    """Send all traffic to the primary again (ends a canary or shadow)."""
    with api_client() as client:
        found = client.request("PUT", f"/api/v1/services/{name}/traffic", json={"policy": "single", "reason": reason})
        console.print(f"{name}: {_routing(found)}")


@app.command()
def promote(name: str, backend: Annotated[int | None, typer.Option(help="Backend id; default the candidate.")] = None,
            reason: str = "") -> None:
    """Make the candidate (or a named backend) the primary; no request fails during the swap."""
    with api_client() as client:
        found = client.post(f"/api/v1/services/{name}/promote", json={"backend_id": backend, "reason": reason})
        console.print(f"{name} now serves [bold]{found['primary']}[/].")


@app.command()
def rollback(name: str, reason: str = "") -> None:
    """Put the previous primary back (one step)."""
    with api_client() as client:
        found = client.post(f"/api/v1/services/{name}/rollback", json={"reason": reason})
        console.print(f"{name} now serves [bold]{found['primary']}[/] again.")


@app.command()
def audit(name: str) -> None:
    """Show every change of a service: who, why, when, routing before and after."""
    with api_client() as client:
        rows = []
        for change in client.get(f"/api/v1/services/{name}/audit"):
            before, after = change.get("before") or {}, change.get("after") or {}
            rows.append({"at": change["at"], "action": change["action"], "user": change["user"],
                         "reason": change["reason"] or "—", "before": _state(before), "after": _state(after)})
        print_table(rows, ["at", "action", "user", "reason", "before", "after"], empty="No changes yet.")


def _state(state: dict[str, Any]) -> str:
    if not state:
        return "—"
    text = f"{state.get('policy')}: {state.get('primary')}"
    if state.get("candidate"):
        text += f" + {state['candidate']}" + (f" ({state['weight']:.0%})" if state.get("weight") else "")
    return text if state.get("state") != "stopped" else f"stopped ({text})"


@app.command()
def live(name: str) -> None:
    """Show what the data plane routes now and the shadow comparison (agreement, mean abs diff)."""
    with api_client() as client:
        print_json(client.get(f"/api/v1/services/{name}/live"))
