"""`mlpilot serve`: a standalone data plane for one model (Open Inference Protocol V2), no database.

The command checks its arguments and converts an imported model into a model folder, then replaces itself
(exec, same process id) with the lean serving process `python -m mlpilot.dataplane.fasthttp`, which
imports only what serving needs: the CLI's own imports (and LightGBM's scikit-learn/pandas layers)
would otherwise stay resident for the server's whole life. `--http uvicorn` serves in this process with
uvicorn and the FastAPI app instead (the same endpoints; slower, for comparison and debugging).

Authentication: with a token (`--token`, or the MLPILOT_SERVE_TOKEN environment variable, which keeps it
off the command line) every request but the health probes needs `Authorization: Bearer <token>`;
without one the server is open to whoever can reach its address, which is why it binds 127.0.0.1 unless
told otherwise, and warns when it listens on another address without a token.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from mlpilot.cli.console import console, err_console
from mlpilot.core.errors import MlpilotError
from mlpilot.settings import get_settings

HTTP_SERVERS = ("fast", "uvicorn")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    name: Annotated[str, typer.Option(help="Model name in the URL: /v2/models/NAME/infer.")],
    model_dir: Annotated[Path | None, typer.Option(help="A model folder made by mlpilot.")] = None,
    import_file: Annotated[Path | None, typer.Option("--import", help="A model file trained elsewhere.")] = None,
    flavor: Annotated[str | None, typer.Option(help="Format of --import: lightgbm, sklearn, onnx or xgboost.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    token: Annotated[str | None, typer.Option(
        envvar="MLPILOT_SERVE_TOKEN", show_envvar=True,
        help="Require 'Authorization: Bearer TOKEN' on every request but health probes.")] = None,
    http: Annotated[str, typer.Option(help="HTTP server: fast (default) or uvicorn.")] = "fast",
) -> None:
    """Serve one model over the Open Inference Protocol V2 without the control plane."""
    from mlpilot.registry.flavors.importing import import_model

    if (model_dir is None) == (import_file is None):
        err_console.print("[red]Give exactly one of --model-dir or --import FILE --flavor NAME.[/]")
        raise typer.Exit(2)
    if http not in HTTP_SERVERS:
        err_console.print(f"[red]--http must be one of: {', '.join(HTTP_SERVERS)}.[/]")
        raise typer.Exit(2)
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not token and not _loopback(host):
        err_console.print(f"[yellow]Listening on {host} without a token: anyone who can reach this address can "
                          "use the model. Set MLPILOT_SERVE_TOKEN (or --token) to require one.[/]")
    workdir = tempfile.mkdtemp(prefix="mlpilot-serve-")
    try:
        if import_file is not None:
            if flavor is None:
                err_console.print("[red]--import needs --flavor (lightgbm, sklearn, onnx or xgboost).[/]")
                raise typer.Exit(2)
            model_dir = import_model(import_file, flavor=flavor, dest=Path(workdir) / "model")
    except MlpilotError as exc:
        _remove(workdir)
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    except BaseException:
        _remove(workdir)
        raise
    assert model_dir is not None
    if http == "fast":
        if token:
            # Passed through the environment (MLPILOT_SERVE_TOKEN = settings.serve_token), never argv.
            os.putenv("MLPILOT_SERVE_TOKEN", token)
        sys.stdout.flush()
        sys.stderr.flush()
        # The server process takes over this one (and deletes the temporary folder when it stops).
        os.execv(sys.executable, [sys.executable, "-m", "mlpilot.dataplane.fasthttp", "--model-dir",
                                   str(model_dir), "--name", name, "--host", host, "--port", str(port),
                                   "--remove-on-exit", workdir])
    try:
        _serve_uvicorn(name, model_dir, host, port, token)
    finally:
        _remove(workdir)


def _serve_uvicorn(name: str, model_dir: Path, host: str, port: int, token: str | None) -> None:
    import hashlib

    import uvicorn

    from mlpilot.dataplane.asgi import create_dataplane_app
    from mlpilot.dataplane.auth import TokenGate
    from mlpilot.dataplane.server import DataPlane

    plane = DataPlane(get_settings().serving, sink=None)
    if token:
        plane.gate = TokenGate()
        plane.gate.replace({hashlib.sha256(token.encode()).hexdigest(): None})
    try:
        plane.load(name, model_dir, "1")
    except MlpilotError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"Serving [bold]{name}[/] on http://{host}:{port}/v2/models/{name}/infer")
    uvicorn.run(create_dataplane_app(plane), host=host, port=port, log_level="warning", access_log=False)


def _remove(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
