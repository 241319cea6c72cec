"""`mlpilot models …`: registered model versions — list, show (lineage), stage, import, export to ONNX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.console import api_client, console, err_console, print_json, print_table

app = typer.Typer(help="Registered model versions.", no_args_is_help=True)


@app.command("list")
def list_models(project: str) -> None:
    """List a project's model versions."""
    with api_client() as client:
        found = client.find_project(project)
        print_table(client.get(f"/api/v1/projects/{found['id']}/model-versions"),
                    ["id", "name", "version", "stage", "flavor", "run_id", "created_at"],
                    empty="No model versions yet.")


@app.command()
def show(model_version: Annotated[int, typer.Argument(help="Model version id.")]) -> None:
    """Show a model version: signature, metrics, lineage (run, dataset version, recipe) and stage history."""
    with api_client() as client:
        print_json(client.get(f"/api/v1/model-versions/{model_version}"))


@app.command()
def stage(model_version: Annotated[int, typer.Argument(help="Model version id.")],
          to: Annotated[str, typer.Argument(help="staging, production or archived.")],
          reason: Annotated[str, typer.Option(help="Why (kept in the audit trail).")] = "") -> None:
    """Move a model version to another stage (production archives the name's previous production version)."""
    with api_client() as client:
        found = client.post(f"/api/v1/model-versions/{model_version}/stage", json={"stage": to, "reason": reason})
        console.print(f"{found['name']} v{found['version']} is now [bold]{found['stage']}[/].")


@app.command("import")
def import_model(
    project: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The model file.")],
    flavor: Annotated[str, typer.Option(help="onnx, lightgbm, xgboost or sklearn (pickle: admins, trusted files).")],
    name: Annotated[str, typer.Option(help="Model name; the import becomes its next version.")],
    signature: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                   help="Declared signature JSON: inputs, task, classes.")] = None,
    target: Annotated[str, typer.Option(help="Name of the predicted column.")] = "target",
) -> None:
    """Import a model trained elsewhere as a new model version."""
    declared = None
    if signature is not None:
        try:
            declared = json.dumps(json.loads(signature.read_text()))
        except ValueError as exc:
            err_console.print(f"[red]{signature} is not valid JSON: {exc}[/]")
            raise typer.Exit(2) from None
    with api_client() as client, console.status(f"Importing {file.name}…"):
        found = client.find_project(project)
        data = {"flavor": flavor, "name": name, "target": target}
        if declared is not None:
            data["signature"] = declared
        with file.open("rb") as handle:
            made = client.post(f"/api/v1/projects/{found['id']}/model-versions/import", data=data,
                               files={"file": (file.name, handle)})
    inputs = ", ".join(i["name"] for i in made["signature"]["inputs"][:12])
    console.print(f"Imported [bold]{made['name']} v{made['version']}[/] (id {made['id']}, {made['flavor']}, "
                  f"{made['signature']['task']}); inputs: {inputs}")


@app.command()
def export(model_version: Annotated[int, typer.Argument(help="Model version id.")],
           out: Annotated[Path | None, typer.Option(help="Also save model.onnx here.")] = None) -> None:
    """Export a model version to ONNX (checked for parity) as the name's next version."""
    with api_client() as client:
        with console.status("Converting to ONNX and checking parity…"):
            result = client.post(f"/api/v1/model-versions/{model_version}/export/onnx")
        made, parity = result["model_version"], result["parity"]
        console.print(f"Exported [bold]{made['name']} v{made['version']}[/] (id {made['id']}, onnx); parity on "
                      f"{parity['rows']} rows: max abs diff {parity['max_abs_diff']:.2e} "
                      f"(tolerance {parity['tolerance']:g}), labels agree {parity['label_agreement']:.1%}.")
        if out is not None:
            out.write_bytes(client.get(f"/api/v1/model-versions/{made['id']}/files/model.onnx"))
            console.print(f"Saved {out}")
