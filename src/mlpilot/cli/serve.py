"""`mlpilot serve`: a standalone data plane for one model (Open Inference Protocol V2), no database."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from mlpilot.cli.console import console, err_console
from mlpilot.core.errors import MlpilotError
from mlpilot.settings import get_settings


def serve(
    name: Annotated[str, typer.Option(help="Model name in the URL: /v2/models/NAME/infer.")],
    model_dir: Annotated[Path | None, typer.Option(help="A model folder made by mlpilot.")] = None,
    import_file: Annotated[Path | None, typer.Option("--import", help="A model file trained elsewhere.")] = None,
    flavor: Annotated[str | None, typer.Option(help="Format of --import: lightgbm or sklearn.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Serve one model over the Open Inference Protocol V2 without the control plane."""
    from mlpilot.dataplane.server import DataPlane, create_dataplane_app
    from mlpilot.registry.flavors.importing import import_model

    if (model_dir is None) == (import_file is None):
        err_console.print("[red]Give exactly one of --model-dir or --import FILE --flavor NAME.[/]")
        raise typer.Exit(2)
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    workdir = tempfile.TemporaryDirectory(prefix="mlpilot-serve-")
    try:
        if import_file is not None:
            if flavor is None:
                err_console.print("[red]--import needs --flavor (lightgbm or sklearn).[/]")
                raise typer.Exit(2)
            model_dir = import_model(import_file, flavor=flavor, dest=Path(workdir.name) / "model")
        plane = DataPlane(settings.serving, sink=None)
        plane.load(name, model_dir, "1")
    except MlpilotError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"Serving [bold]{name}[/] on http://{host}:{port}/v2/models/{name}/infer")
    try:
        uvicorn.run(create_dataplane_app(plane), host=host, port=port, log_level="warning", access_log=False)
    finally:
        workdir.cleanup()
